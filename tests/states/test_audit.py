"""The audit trail: append-only in the database, tamper-evident by its hash chain, correct
under concurrent appends."""

import datetime as dt
import json
import multiprocessing
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from models.audit import GENESIS, AuditEvent
from models.db import make_engine, transaction
from models.errors import AuditBroken, InputError
from models.views import AuditHeadView
from states.audit_chain import (
    _OWN,
    Moves,
    _pieces,
    _text,
    append_events,
    append_moves,
    canonical_payload,
    digest,
    read_kept_heads,
    verify_chain,
)
from tests.factories import audit_event


def _chain(engine: Engine, count: int = 6) -> None:
    with transaction(engine) as session:
        append_events(session, [audit_event(n) for n in range(count)])


def test_a_fresh_chain_verifies(engine: Engine) -> None:
    _chain(engine)
    with transaction(engine) as session:
        assert verify_chain(session) == 6


def test_the_engine_fast_path_hashes_as_the_chain_verifies(engine: Engine) -> None:
    """`append_moves` puts each event's numbers between pieces of text encoded once; `digest`,
    which verification uses, must find the same hashes (non-ASCII text, quotes and missing ids
    included)."""
    reason = 'fact screening_step "giúp đỡ" — Chi bộ 3'
    payload = canonical_payload({"ghi chú": "đã nhắc", "n": 2})
    rows = [(7, 1, 12, None), (9, None, None, 40), (11, 3, 12, 41)]
    at = dt.date(2023, 5, 20)
    moves = Moves(
        at, "Nguyễn Văn A", "obligation", "lapse", "open", "overdue", reason, payload, rows
    )
    with transaction(engine) as session:
        assert append_moves(session, moves) == 3
        stored = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        prev = GENESIS
        for event, (entity_id, campaign_id, unit_id, member_id) in zip(stored, rows, strict=True):
            assert (event.entity_id, event.campaign_id, event.unit_id, event.member_id) == (
                entity_id,
                campaign_id,
                unit_id,
                member_id,
            )
            assert (event.reason, event.payload, event.at) == (reason, payload, at)
            assert event.hash == digest(prev, vars(event)) and event.prev_hash == prev
            prev = event.hash
        assert verify_chain(session) == 3


SHARED = st.fixed_dictionaries(
    {
        "at": st.dates(),
        "recorded_at": st.text(),
        "actor": st.text(),
        "entity": st.text(),
        "trigger": st.text(),
        "from_state": st.text(),
        "to_state": st.text(),
        "reason": st.none() | st.text(),
        "payload": st.text(),
    }
)
OWN = st.tuples(st.integers(0), *[st.none() | st.integers(0)] * (len(_OWN) - 1))


@given(shared=SHARED, own=OWN)
def test_a_set_based_events_pieces_and_numbers_make_its_hashed_text(
    shared: dict[str, object], own: tuple[int, ...]
) -> None:
    """Any shared text (NULs, quotes, backslashes, braces), cut once into pieces, gives back
    each event's own text when its numbers are put between them."""
    pieces = _pieces(shared)
    numbers = ["null" if n is None else str(n) for n in own]
    built = "".join(p + n for p, n in zip(pieces, numbers, strict=False)) + pieces[-1]
    assert len(pieces) == len(_OWN) + 1
    assert built == _text({**shared, **dict(zip(_OWN, own, strict=True))})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'mallory' WHERE seq = 3",
        "DELETE FROM audit_event WHERE seq = 3",
    ],
)
def test_the_database_refuses_updates_and_deletes(engine: Engine, statement: str) -> None:
    _chain(engine)
    with pytest.raises(DBAPIError, match="append-only"), transaction(engine) as session:
        session.execute(text(statement))


def _drop_guards(session: object) -> None:
    connection = session.connection()  # type: ignore[attr-defined]
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
    else:
        connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")


TAMPERING = {
    "changed": ["UPDATE audit_event SET actor = 'mallory' WHERE seq = 3"],
    "removed": ["DELETE FROM audit_event WHERE seq = 3"],
    "removed last": ["DELETE FROM audit_event WHERE seq = 6"],
    "inserted": [
        "UPDATE audit_event SET seq = seq + 100 WHERE seq >= 3",
        "INSERT INTO audit_event SELECT 3, at, recorded_at, 'forger', entity, entity_id, "
        "campaign_id, unit_id, member_id, trigger, from_state, to_state, reason, payload, "
        "prev_hash, hash, chain FROM audit_event WHERE seq = 2",
        "UPDATE audit_event SET seq = seq - 99 WHERE seq >= 103",
    ],
    "reordered": [
        "UPDATE audit_event SET seq = 100 WHERE seq = 3",
        "UPDATE audit_event SET seq = 3 WHERE seq = 4",
        "UPDATE audit_event SET seq = 4 WHERE seq = 100",
    ],
}
EXPECTED = {
    "changed": "event 3",
    "removed": "event 3",
    "removed last": "event 6",
    "inserted": "event 3",
    "reordered": "event 3",
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_verify_names_the_first_bad_event(engine: Engine, how: str) -> None:
    _chain(engine)
    with transaction(engine) as session:
        _drop_guards(session)
        for statement in TAMPERING[how]:
            session.execute(text(statement))
    with pytest.raises(AuditBroken, match=EXPECTED[how] + r"\b"), transaction(engine) as session:
        verify_chain(session)


def _append_many(url: str, count: int) -> None:
    engine = make_engine(url)
    for n in range(count):
        with transaction(engine) as session:
            append_events(session, [audit_event(n), audit_event(n)])
    engine.dispose()


def test_two_processes_appending_at_once_leave_one_chain(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(database_url, 60)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    engine = make_engine(database_url)
    with transaction(engine) as session:
        assert verify_chain(session) == 240
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, 241))
    engine.dispose()


def test_verify_runs_on_a_copy_of_a_sqlite_file(tmp_path: Path) -> None:
    from models.db import migrate

    original = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(original)
    _chain(original)
    original.dispose()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    copy = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with transaction(copy) as session:
        assert verify_chain(session) == 6
    copy.dispose()


HASH = "ab" * 32


def test_kept_heads_are_read_in_every_form_a_reviewer_keeps(tmp_path: Path) -> None:
    """SEQ:HASH lines, `audit head --format json` lines, comments and blank lines; or one
    pretty-printed JSON head, or a list of them."""
    lines = tmp_path / "kept-heads.txt"
    lines.write_text(
        f"# after the run of 20/05\n12:{HASH.upper()}\n\nkeep         13:{HASH}\n"
        f'  {{"seq":40,"hash":"{HASH}","recorded_at":"2023-05-20T01:00:00+00:00"}}\n',
        encoding="utf-8",
    )
    found = [(h.seq, h.hash.lower()) for h in read_kept_heads(lines)]
    assert found == [(12, HASH), (13, HASH), (40, HASH)]
    pretty = tmp_path / "head.json"
    pretty.write_text(json.dumps({"seq": 3, "hash": HASH, "recorded_at": None}, indent=2))
    assert [(h.seq, h.hash) for h in read_kept_heads(pretty)] == [(3, HASH)]
    listed = tmp_path / "heads.json"
    listed.write_text(json.dumps([{"seq": 3, "hash": HASH}, {"seq": 4, "hash": HASH}]))
    assert [h.seq for h in read_kept_heads(listed)] == [3, 4]


def test_a_bad_kept_heads_file_is_refused_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "kept-heads.txt"
    path.write_text(f'12:{HASH}\n12:abc\n-1:{HASH}\n{{"seq": 1}}\n', encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_kept_heads(path)
    assert [(p.row, p.message.split(":")[0]) for p in refused.value.problems] == [
        (2, "'12"),
        (3, "'-1"),
        (4, "not a kept head"),
    ]
    path.write_bytes(b"12:\xff\n")
    with pytest.raises(InputError, match=r"kept-heads.txt: not UTF-8 text \(byte 3\)"):
        read_kept_heads(path)


def test_verify_checks_every_kept_head_and_names_what_it_found(engine: Engine) -> None:
    _chain(engine)
    with transaction(engine) as session:
        third = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 3))
        assert verify_chain(session, kept=[AuditHeadView(seq=3, hash=third.upper())]) == 6
        assert verify_chain(session, kept=[AuditHeadView(seq=0, hash=GENESIS)]) == 6
        with pytest.raises(AuditBroken) as wrong:
            verify_chain(session, kept=[AuditHeadView(seq=3, hash=HASH)])
        assert str(wrong.value) == (
            f"the trail holds event 3 with hash {third[:16]}…, the kept head says {HASH[:16]}…"
        )
        with pytest.raises(
            AuditBroken, match=r"^the trail ends at event 6; the kept head is event 9$"
        ):
            verify_chain(session, kept=[AuditHeadView(seq=9, hash=HASH)])
