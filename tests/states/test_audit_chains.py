"""Audit chains (issue 23): a chain per partition of a campaign's work, each verifiable on its
own, appended without waiting on another chain's lock; a checkpoint in the main chain binds
their heads; a trail of one chain kept before the chains came verifies unchanged."""

import datetime as dt
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from models.audit import GENESIS, AuditEvent, AuditHead
from models.db import alembic_config, make_engine, migrate, transaction
from models.errors import AuditBroken
from states.audit_chain import (
    CHECKPOINT,
    CONTENT,
    append_events,
    chain_head,
    checkpoint,
    digest,
    verify_chain,
    verify_chains,
)
from tests.cli_process import run_cli
from tests.factories import audit_event
from tests.states.test_tamper import attack

A, B = "1:A", "1:B"
_numbers = itertools.count()
COLUMNS = [*CONTENT, "prev_hash", "hash", "chain"]


def _append(engine: Engine, chain: str, first: int, count: int = 3) -> int:
    with transaction(engine) as session:
        return append_events(session, [audit_event(first + n) for n in range(count)], chain)


def _build(engine: Engine) -> None:
    """The main chain and two partitions' chains, appended in turns: 6 + 9 + 6 events."""
    for turn in range(3):
        _append(engine, "", 100 * turn, 2)
        _append(engine, A, 100 * turn + 10)
        _append(engine, B, 100 * turn + 20, 2)


def _chain(engine: Engine, chain: str) -> list[dict[str, Any]]:
    with transaction(engine) as session:
        columns = [getattr(AuditEvent, c) for c in COLUMNS]
        query = select(*columns).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
        return [dict(row._mapping) for row in session.execute(query)]


def _verify(engine: Engine) -> int:
    with transaction(engine) as session:
        return verify_chain(session)


@pytest.fixture
def chains(engine: Engine) -> Engine:
    _build(engine)
    return engine


def test_chains_are_linked_each_on_its_own_and_verify_together(chains: Engine) -> None:
    a, b, main = _chain(chains, A), _chain(chains, B), _chain(chains, "")
    assert (len(main), len(a), len(b)) == (6, 9, 6)
    for events in (a, b, main):
        assert events[0]["prev_hash"] == GENESIS
        assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(events))
    seqs = sorted(e["seq"] for e in a + b + main)
    assert seqs == list(range(1, 22)), "one numbering for every chain"
    with transaction(chains) as session:
        assert tuple(verify_chains(session)) == (21, 3, 0, 21)
        heads = {c: s for c, s in session.execute(select(AuditHead.chain, AuditHead.seq))}
    assert heads == {"": main[-1]["seq"], A: a[-1]["seq"], B: b[-1]["seq"]}


def test_an_altered_event_of_a_partition_chain_is_caught(chains: Engine) -> None:
    fourth = _chain(chains, A)[4]["seq"]
    with attack(chains) as connection:
        row = AuditEvent.seq == fourth
        connection.execute(update(AuditEvent).where(row).values(actor="mallory"))
    with pytest.raises(AuditBroken, match=rf"^event {fourth} was altered in chain '1:A'"):
        _verify(chains)


def test_a_deleted_event_of_a_partition_chain_is_caught(chains: Engine) -> None:
    a = _chain(chains, A)
    with attack(chains) as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.seq == a[3]["seq"]))
    # Its predecessor in chain A is not the event before it in the trail (chain B's is).
    with pytest.raises(
        AuditBroken,
        match=rf"^event {a[4]['seq']} does not follow event {a[2]['seq']} in chain '1:A': "
        "the event it was appended after is not in its chain$",
    ):
        _verify(chains)


def test_a_deleted_event_right_before_the_next_of_its_chain_is_named(chains: Engine) -> None:
    a = _chain(chains, A)
    assert a[1]["seq"] + 1 == a[2]["seq"]
    with attack(chains) as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.seq == a[1]["seq"]))
    missing, found = a[1]["seq"], a[2]["seq"]
    with pytest.raises(
        AuditBroken, match=rf"^event {missing} is missing \(found {found} next\) in chain '1:A'$"
    ):
        _verify(chains)


def test_an_event_inserted_in_a_partition_chain_is_caught(chains: Engine) -> None:
    """A forged event hashed onto its chain's event correctly, the later events renumbered to
    make room: what breaks is the next event of the chain."""
    a = _chain(chains, A)
    at = a[4]["seq"]
    with attack(chains) as connection:
        forged = {**a[4], "actor": "forger", "prev_hash": a[3]["hash"]}
        forged["hash"] = digest(a[3]["hash"], forged)
        connection.execute(
            update(AuditEvent).where(AuditEvent.seq >= at).values(seq=-AuditEvent.seq)
        )
        connection.execute(
            update(AuditEvent).where(AuditEvent.seq < 0).values(seq=1 - AuditEvent.seq)
        )
        connection.execute(insert(AuditEvent), [forged])
    with pytest.raises(
        AuditBroken, match=rf"^event {at + 1} does not follow event {at} in chain '1:A'$"
    ):
        _verify(chains)


def _rewrite_tail(connection: Connection, chain: str, keep: int) -> None:
    """Re-date every event of `chain` after its first `keep`, hashes recomputed, and set its
    head row to match: a chain that verifies by itself."""
    events = [dict(row._mapping) for row in connection.execute(
        select(*[getattr(AuditEvent, c) for c in COLUMNS])
        .where(AuditEvent.chain == chain)
        .order_by(AuditEvent.seq)
    )]  # fmt: skip
    prev = events[keep - 1]["hash"] if keep else GENESIS
    for event in events[keep:]:
        event.update(recorded_at="2023-01-01T00:00:00.000000+00:00", prev_hash=prev)
        event["hash"] = prev = digest(prev, event)
        connection.execute(delete(AuditEvent).where(AuditEvent.seq == event["seq"]))
        connection.execute(insert(AuditEvent), [event])
    done = AuditHead.chain == chain
    connection.execute(update(AuditHead).where(done).values(seq=events[-1]["seq"], hash=prev))


def test_a_checkpoint_binds_the_heads_of_the_campaigns_chains(chains: Engine) -> None:
    with transaction(chains) as session:
        at = checkpoint(session, 1, dt.date(2023, 5, 20), "system")
        append_events(session, [audit_event(900)], "2:other")  # another campaign's chain
    with transaction(chains) as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.seq == at)).scalar_one()
        assert (event.chain, event.entity, event.trigger) == ("", CHECKPOINT, "checkpoint")
        assert chain_head(session).seq == at
    a, b = _chain(chains, A), _chain(chains, B)
    assert json.loads(event.payload) == {
        A: [a[-1]["seq"], a[-1]["hash"]],
        B: [b[-1]["seq"], b[-1]["hash"]],
    }
    _append(chains, A, 500)  # after the checkpoint: bound by the next one only
    with transaction(chains) as session:
        assert tuple(verify_chains(session))[:3] == (26, 4, 1)

    with attack(chains) as connection:
        _rewrite_tail(connection, A, keep=9)  # what came after the checkpoint
    assert _verify(chains) == 26, "a chain's tail past every checkpoint verifies by itself"
    with attack(chains) as connection:
        _rewrite_tail(connection, A, keep=7)  # the head the checkpoint recorded rewritten
    with pytest.raises(
        AuditBroken,
        match=rf"^event {a[-1]['seq']} in chain '1:A' has hash [0-9a-f]{{16}}…, checkpoint "
        rf"event {at} recorded {a[-1]['hash'][:16]}…: the chain was rewritten$",
    ):
        _verify(chains)


def test_a_partition_chain_cut_back_with_its_head_row_is_caught_by_the_checkpoint(
    chains: Engine,
) -> None:
    with transaction(chains) as session:
        at = checkpoint(session, 1, dt.date(2023, 5, 20), "system")
    b = _chain(chains, B)
    with attack(chains) as connection:
        connection.execute(
            delete(AuditEvent).where(AuditEvent.seq >= b[-2]["seq"], AuditEvent.chain == B)
        )
        done = AuditHead.chain == B
        connection.execute(
            update(AuditHead).where(done).values(seq=b[-3]["seq"], hash=b[-3]["hash"])
        )
    with pytest.raises(
        AuditBroken,
        match=rf"^event {b[-1]['seq']} is missing in chain '1:B': checkpoint event {at} "
        "recorded it as the chain's head$",
    ):
        _verify(chains)


def test_a_chain_without_its_head_row_or_behind_it_is_caught(chains: Engine) -> None:
    a = _chain(chains, A)
    with attack(chains) as connection:
        connection.execute(update(AuditHead).where(AuditHead.chain == A).values(seq=a[-2]["seq"]))
    with pytest.raises(
        AuditBroken,
        match=rf"^the head row of chain '1:A' records event {a[-2]['seq']}, the chain goes on "
        rf"to event {a[-1]['seq']}:",
    ):
        _verify(chains)
    with attack(chains) as connection:
        connection.execute(delete(AuditHead).where(AuditHead.chain == A))
    with pytest.raises(
        AuditBroken, match=r"^event \d+ in chain '1:A' ends a chain that has no head row$"
    ):
        _verify(chains)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_appends_to_two_chains_do_not_wait_on_each_other(engine: Engine) -> None:
    """One transaction appends to chain A and stays open; another appends to chain B (new,
    then existing) within a 2-second lock timeout. Chain A itself stays locked to it."""
    for first_time in (True, False):
        with engine.connect() as holder, engine.connect() as other:
            holding = Session(bind=holder)
            append_events(holding, [audit_event(1)], A)  # uncommitted: holds A's head row
            with Session(bind=other) as session:
                session.execute(text("SET lock_timeout = '2s'"))
                assert append_events(session, [audit_event(2)], B) > 0
                session.commit()
            with Session(bind=other) as session, pytest.raises(OperationalError, match="lock"):
                session.execute(text("SET lock_timeout = '200ms'"))
                append_events(session, [audit_event(3)], A)
            holding.commit()
            holding.close()
        assert _verify(engine) == (2 if first_time else 4)


# Before the chains: a trail of one chain, made at revision 0011, verifies unchanged after 0012.


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0011(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A new database migrated to revision 0011 only."""
    from alembic import command

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        name = f"campaign_old_{os.getpid()}_{next(_numbers)}"
        admin = make_engine(admin_url)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0011")
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_single_chain_trail_made_before_the_chains_verifies_after_them(
    at_0011: Engine,
) -> None:
    """The trail as revision 0011's engine wrote it (its columns, one head row), then 0012:
    every event verifies as it was, the head is the same, and the next append follows it."""
    events, prev = [], GENESIS
    for seq in range(1, 8):
        event = {**audit_event(seq), "seq": seq, "recorded_at": "2023-05-20T01:00:00+00:00"}
        event.update(prev_hash=prev, hash=(prev := digest(prev, event)))
        events.append(event)
    names = [*CONTENT, "prev_hash", "hash"]
    with at_0011.begin() as connection:
        marks = ", ".join(f":{n}" for n in names)
        connection.execute(
            text(f"INSERT INTO audit_event ({', '.join(names)}) VALUES ({marks})"), events
        )
        connection.execute(
            text("UPDATE audit_head SET seq = 7, hash = :h WHERE id = 1"), {"h": prev}
        )
    migrate(at_0011)
    with transaction(at_0011) as session:
        assert verify_chain(session, kept=[chain_head(session)]) == 7
        assert (chain_head(session).seq, chain_head(session).hash) == (7, prev)
        assert append_events(session, [audit_event(8)]) == 8
        assert append_events(session, [audit_event(9)], A) == 9
    with transaction(at_0011) as session:
        assert tuple(verify_chains(session)) == (9, 2, 0, 9)
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.chain == "")
            )
            == 8
        )


def test_audit_verify_names_the_chains_it_verified(chains: Engine) -> None:
    with transaction(chains) as session:
        checkpoint(session, 1, dt.date(2023, 5, 20), "system")
    url = chains.url.render_as_string(hide_password=False)
    head = run_cli("audit", "head", "--format", "json", database_url=url)
    assert head.returncode == 0, head.stderr
    kept = json.loads(head.stdout)
    verified = run_cli(
        "audit", "verify", "--expect", f"{kept['seq']}:{kept['hash']}", database_url=url
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout == (
        "audit trail verified: 22 events in 3 chains, every chain intact, 1 checkpoint holds, "
        "holds the 1 kept heads\n"
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_checkpoint_beside_an_append_still_checked(chains: Engine) -> None:
    """An append to chain A numbered before a checkpoint but committed after it: the
    checkpoint records A's head before that event, and verification looks it up."""
    with chains.connect() as holder:
        holding = Session(bind=holder)
        late = append_events(holding, [audit_event(700)], A)
        with transaction(chains) as session:
            at = checkpoint(session, 1, dt.date(2023, 5, 20), "system")
        holding.commit()
        holding.close()
    a = _chain(chains, A)
    assert (a[-2]["seq"], a[-1]["seq"]) == (19, late) and late < at
    with transaction(chains) as session:
        assert tuple(verify_chains(session))[:3] == (23, 3, 1)
    with attack(chains) as connection:
        _rewrite_tail(connection, A, keep=8)
    with pytest.raises(AuditBroken, match=rf"^event 19 in chain '1:A' has hash .* event {at} "):
        _verify(chains)
