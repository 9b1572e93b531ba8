"""Tamper trials: an attacker with the owner's powers (the append-only triggers set aside, as
`ALTER TABLE … DISABLE TRIGGER USER` or dropping them allows) alters the trail, and
`audit verify` catches each attack; where the attack recomputes the chain, through a head kept
outside the database. Then the verifier itself, tried adversarially: one wrong value at any
single position of a chain must fail verification."""

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.audit import GENESIS, AuditEvent, AuditHead
from models.db import transaction
from models.errors import AuditBroken
from models.views import AuditHeadView
from states.audit_chain import CONTENT, Moves, append_events, append_moves, chain_head, digest
from states.audit_chain import verify_chain as _verify_chain
from tests.cli_process import run_cli

BATCHES, PER_BATCH = 5, 8
LAST = BATCHES * PER_BATCH
COLUMNS = [*CONTENT, "prev_hash", "hash"]


def _event(n: int) -> dict[str, Any]:
    return {
        "at": dt.date(2023, 5, 1) + dt.timedelta(days=n % 28),
        "actor": f"operator-{n % 3}",
        "entity": "obligation",
        "entity_id": n,
        "campaign_id": 1,
        "unit_id": n % 5 or None,
        "member_id": n if n % 2 else None,
        "trigger": "lapse",
        "from_state": "open",
        "to_state": "overdue",
        "reason": f"hạn {n}" if n % 4 else None,
        "payload": json.dumps({"n": n}),
    }


def _build(engine: Engine) -> list[AuditHeadView]:
    """A chain of LAST events appended in BATCHES transactions, through both of the engine's
    append paths; the head a reviewer kept after each."""
    kept = []
    for batch in range(BATCHES):
        first = batch * PER_BATCH
        with transaction(engine) as session:
            if batch % 2:
                rows = [(first + i, 1, i % 5 or None, None) for i in range(PER_BATCH)]
                moves = Moves(
                    dt.date(2023, 5, 20), "system", "obligation", "meet", "open", "met", None,
                    "{}", rows,
                )  # fmt: skip
                append_moves(session, moves)
            else:
                append_events(session, [_event(first + i) for i in range(PER_BATCH)])
        with transaction(engine) as session:
            kept.append(chain_head(session))
    assert [k.seq for k in kept] == [PER_BATCH * (b + 1) for b in range(BATCHES)]
    return kept


def verify(engine: Engine, kept: list[AuditHeadView] | None = None) -> int:
    with transaction(engine) as session:
        return _verify_chain(session, kept=kept or [])


@contextmanager
def guards_set_aside(connection: Connection) -> Iterator[None]:
    """What the owner (or a superuser) can do: set the append-only triggers aside, then put
    them back as they were."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
        yield
        connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")
        return
    triggers = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
    ).all()
    assert len(triggers) >= 2
    for name, _sql in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    yield
    for _name, sql in triggers:
        connection.exec_driver_sql(sql)


@contextmanager
def attack(engine: Engine) -> Iterator[Connection]:
    """One committed attack with the guards set aside."""
    with engine.connect() as connection, connection.begin(), guards_set_aside(connection):
        yield connection


def _events(connection: Connection) -> list[dict[str, Any]]:
    columns = [getattr(AuditEvent, c) for c in COLUMNS]
    query = select(*columns).order_by(AuditEvent.seq)
    return [dict(row._mapping) for row in connection.execute(query)]


def _rewrite(connection: Connection, events: list[dict[str, Any]]) -> None:
    """Replace the whole trail with `events`, every hash recomputed, and the head row with it."""
    prev = GENESIS
    for seq, event in enumerate(events, start=1):
        event.update(seq=seq, prev_hash=prev)
        event["hash"] = prev = digest(prev, event)
    connection.execute(delete(AuditEvent))
    if events:
        connection.execute(insert(AuditEvent), events)
    connection.execute(update(AuditHead).values(seq=len(events), hash=prev))


@pytest.fixture
def kept(engine: Engine) -> list[AuditHeadView]:
    """A chain of LAST events in the test's database, and its heads as a reviewer kept them."""
    return _build(engine)


def test_the_untouched_chain_holds_every_kept_head(engine: Engine, kept: list[Any]) -> None:
    assert verify(engine, kept) == LAST


def test_a_changed_field_is_caught(engine: Engine, kept: list[AuditHeadView]) -> None:
    with attack(engine) as connection:
        connection.execute(update(AuditEvent).where(AuditEvent.seq == 10).values(actor="mallory"))
    with pytest.raises(AuditBroken, match=r"^event 10 was altered"):
        verify(engine)


def test_a_deleted_event_is_caught(engine: Engine, kept: list[AuditHeadView]) -> None:
    with attack(engine) as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.seq == 10))
    with pytest.raises(AuditBroken, match=r"^event 10 is missing \(found 11 next\)"):
        verify(engine)


def test_an_event_inserted_in_the_middle_is_caught(
    engine: Engine, kept: list[AuditHeadView]
) -> None:
    """The forged event is hashed onto event 9 correctly: what it breaks is event 10's link."""
    with attack(engine) as connection:
        events = _events(connection)
        forged = {**events[9], "seq": 10, "actor": "forger", "prev_hash": events[8]["hash"]}
        forged["hash"] = digest(events[8]["hash"], forged)
        for moved in events[9:]:
            moved["seq"] += 1
        connection.execute(delete(AuditEvent).where(AuditEvent.seq >= 10))
        connection.execute(insert(AuditEvent), [forged, *events[9:]])
    with pytest.raises(AuditBroken, match=r"^event 11 does not follow event 10"):
        verify(engine)


def test_two_swapped_events_are_caught(engine: Engine, kept: list[AuditHeadView]) -> None:
    with attack(engine) as connection:
        for old, new in ((10, 1000), (11, 10), (1000, 11)):
            connection.execute(update(AuditEvent).where(AuditEvent.seq == old).values(seq=new))
    with pytest.raises(AuditBroken, match=r"^event 10 does not follow event 9"):
        verify(engine)


def test_a_reset_head_row_is_caught(engine: Engine, kept: list[AuditHeadView]) -> None:
    with attack(engine) as connection:
        connection.execute(update(AuditHead).values(seq=kept[2].seq, hash=kept[2].hash))
    with pytest.raises(
        AuditBroken, match=r"head row records event 24, the trail goes on to event 40"
    ):
        verify(engine)


def test_a_cut_tail_with_the_head_row_reset_is_caught_by_a_kept_head(
    engine: Engine, kept: list[AuditHeadView]
) -> None:
    with attack(engine) as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.seq > 30))
        thirty = connection.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 30))
        connection.execute(update(AuditHead).values(seq=30, hash=thirty))
    assert verify(engine) == 30  # the chain alone cannot tell: it is a shorter valid chain
    assert verify(engine, kept[:3]) == 30  # heads kept before the cut still hold
    with pytest.raises(
        AuditBroken, match=r"^the trail ends at event 30; the kept head is event 40$"
    ):
        verify(engine, kept)


def test_a_trail_emptied_and_its_head_reset_is_caught_by_a_kept_head(
    engine: Engine, kept: list[AuditHeadView]
) -> None:
    """Finding 5: everything deleted and the head row reset verified as '0 events, intact'."""
    with attack(engine) as connection:
        _rewrite(connection, [])
    assert verify(engine) == 0
    with pytest.raises(AuditBroken, match=r"^the trail ends at event 0; the kept head is event 8"):
        verify(engine, kept[:1])


def test_a_history_rewritten_with_every_hash_recomputed_is_caught_by_a_kept_head(
    engine: Engine, kept: list[AuditHeadView]
) -> None:
    with attack(engine) as connection:
        events = _events(connection)
        events[9]["actor"] = "mallory"
        _rewrite(connection, events)
    assert verify(engine) == LAST  # a valid chain of its own
    assert verify(engine, kept[:1]) == LAST  # a head kept before event 10 cannot tell
    with pytest.raises(AuditBroken) as caught:
        verify(engine, kept)
    assert str(caught.value) == (
        f"the trail holds event 16 with hash {_events_hash(engine, 16)[:16]}…, "
        f"the kept head says {kept[1].hash[:16]}…"
    )


def test_a_whole_chain_rewritten_shorter_is_caught_by_a_kept_head(
    engine: Engine, kept: list[AuditHeadView]
) -> None:
    """Every event re-dated and re-hashed, one dropped: nothing of the kept chain is left."""
    with attack(engine) as connection:
        events = _events(connection)
        for event in events:
            event["recorded_at"] = "2023-01-01T00:00:00.000000+00:00"
        _rewrite(connection, events[:-1])
    assert verify(engine) == LAST - 1
    with pytest.raises(AuditBroken, match=r"^the trail holds event 8 with hash "):
        verify(engine, kept)


def test_a_well_hashed_append_extends_the_chain_past_every_kept_head(
    engine: Engine, kept: list[AuditHeadView]
) -> None:
    """The limit of a kept head: an append through the engine's own path, triggers in place,
    extends the chain, and no earlier head refutes it. Only the roles prevent it (INSERT is
    the everyday role's, and the everyday role is the engine)."""
    with transaction(engine) as session:
        append_events(session, [{**_event(99), "actor": "forger"}])
    assert verify(engine, kept) == LAST + 1


def _events_hash(engine: Engine, seq: int) -> str:
    with transaction(engine) as session:
        return str(session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq)))


# The verifier, tried adversarially: a value that differs at one position of the chain.

INT32 = st.integers(-(2**31), 2**31 - 1)


def _text(size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=size)


HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
REPLACEMENTS: dict[str, st.SearchStrategy[Any]] = {
    "at": st.dates(dt.date(1900, 1, 1), dt.date(2999, 12, 31)),
    "recorded_at": _text(32),
    "actor": _text(64),
    "entity": _text(32),
    "entity_id": INT32,
    "campaign_id": st.none() | INT32,
    "unit_id": st.none() | INT32,
    "member_id": st.none() | INT32,
    "trigger": _text(32),
    "from_state": _text(16),
    "to_state": _text(16),
    "reason": st.none() | _text(200),
    "payload": _text(200),
    "prev_hash": HEX64 | _text(64),
    "hash": HEX64 | _text(64),
    "seq": st.integers(-3, LAST + 20).filter(lambda s: not 1 <= s <= LAST),
}
HEAD = {"head.seq": st.integers(-3, LAST + 20), "head.hash": HEX64 | _text(64)}


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection whose every change, the guards' removal included, is rolled back."""
    with engine.connect() as connection:
        transaction_ = connection.begin()
        try:
            with guards_set_aside(connection):
                yield connection
        finally:
            transaction_.rollback()


def _fails(connection: Connection, kept: list[AuditHeadView]) -> None:
    with pytest.raises(AuditBroken):
        _verify_chain(Session(bind=connection), kept=kept)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_one_wrong_value_anywhere_fails_verification(
    engine: Engine, kept: list[AuditHeadView], data: st.DataObject
) -> None:
    where = data.draw(st.sampled_from([*REPLACEMENTS, *HEAD]), label="column")
    with rolled_back(engine) as connection:
        if where in HEAD:
            column = getattr(AuditHead, where.removeprefix("head."))
            value = data.draw(HEAD[where], label="value")
            assume(value != connection.scalar(select(column)))
            connection.execute(update(AuditHead).values({column: value}))
        else:
            seq = data.draw(st.integers(1, LAST), label="seq")
            value = data.draw(REPLACEMENTS[where], label="value")
            row = AuditEvent.seq == seq
            assume(value != connection.scalar(select(getattr(AuditEvent, where)).where(row)))
            connection.execute(update(AuditEvent).where(row).values({where: value}))
        # Without a kept head, and with every one: a single wrong value never verifies.
        _fails(connection, [])
        _fails(connection, kept)


SQLITE_VALUES = st.one_of(
    st.text(max_size=70),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.binary(max_size=70),
    st.none(),
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_stored_value_sqlite_accepts_fails_verification_cleanly(
    engine: Engine, kept: list[AuditHeadView], data: st.DataObject
) -> None:
    """SQLite stores any type in any column: text in a date, bytes in the payload, a float in
    an id. Verification reads what is stored and refuses it as altered, never crashes."""
    column = data.draw(st.sampled_from([c for c in COLUMNS if c != "seq"]), label="column")
    seq = data.draw(st.integers(1, LAST), label="seq")
    value = data.draw(SQLITE_VALUES, label="value")
    with rolled_back(engine) as connection:
        read = f"SELECT {column}, typeof({column}) FROM audit_event WHERE seq = ?"
        before = connection.exec_driver_sql(read, (seq,)).one()
        try:
            with connection.begin_nested():
                connection.exec_driver_sql(
                    f"UPDATE audit_event SET {column} = ? WHERE seq = ?", (value, seq)
                )
        except IntegrityError:  # NOT NULL: nothing stored
            assume(False)
        assume(tuple(connection.exec_driver_sql(read, (seq,)).one()) != tuple(before))
        _fails(connection, [])


# The command line, end to end: keep the head, check it, catch the rewrite.


def test_the_cli_keeps_a_head_and_catches_a_rewrite_with_it(
    engine: Engine, kept: list[AuditHeadView], tmp_path: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    shown = run_cli("audit", "head", "--format", "json", database_url=url)
    assert shown.returncode == 0, shown.stderr
    head = json.loads(shown.stdout)
    assert head == kept[-1].model_dump()
    assert set(head) == {"seq", "hash", "recorded_at"}
    expect = f"{head['seq']}:{head['hash']}"
    table = run_cli("audit", "head", database_url=url)
    assert f"keep         {expect}\n" in table.stdout
    first = f"{kept[0].seq}:{kept[0].hash}"
    checked = run_cli("audit", "verify", "--expect", first, "--expect", expect, database_url=url)
    assert checked.returncode == 0, checked.stderr
    assert "40 events, chain intact, holds the 2 kept heads" in checked.stdout
    kept_file = tmp_path / "kept-heads.txt"
    lines = ["# kept after each run", f"{kept[0].seq}:{kept[0].hash}", "", shown.stdout]
    kept_file.write_text("\n".join(lines), encoding="utf-8")
    from_file = run_cli("audit", "verify", "--expect-file", kept_file, database_url=url)
    assert from_file.returncode == 0, from_file.stderr

    with attack(engine) as connection:
        events = _events(connection)
        events[20]["to_state"] = "met"
        _rewrite(connection, events)
    assert run_cli("audit", "verify", database_url=url).returncode == 0
    for refused in (
        run_cli("audit", "verify", "--expect", expect, database_url=url),
        run_cli("audit", "verify", "--expect-file", kept_file, database_url=url),
    ):
        assert refused.returncode == 1
        assert refused.stderr.startswith("error: the trail holds event 40 with hash ")
        assert f"the kept head says {head['hash'][:16]}…" in refused.stderr
        assert "Traceback" not in refused.stderr
