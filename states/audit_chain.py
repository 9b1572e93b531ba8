"""Appending to the hash-chained audit trail, in chains; the checkpoint that binds them.

The trail is made of chains: the main chain ("", the single chain of old) and one per
partition of a campaign's work (named `f"{campaign_id}:{key}"`). Each event's hash is
sha256(previous hash of its chain + canonical content); its `seq` is global (unique, in the
hashed content) and increases along each chain, with gaps where other chains' events sit or a
rolled-back transaction took numbers. Appends take the chain's head row first (`UPDATE
audit_head SET seq = seq`: a row lock on PostgreSQL, the write lock on SQLite), then number
their events (PostgreSQL's sequence `audit_seq`, SQLite's max + 1): two processes appending to
one chain still leave one correct chain, appends to two chains never wait on each other.

A chain recomputed whole verifies by itself, so the main chain's head is also kept outside the
database (`chain_head`, printed by `campaign audit head` and published by each run), and at the
end of a run the main chain records the heads of the campaign's other chains (`checkpoint`):
the kept head binds the main chain, its checkpoints bind the others (`states.audit_verify`)."""

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain as chained_ranges
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from models.audit import GENESIS, AuditEvent, AuditHead
from models.bulk import bulk_insert
from models.errors import AuditBroken
from models.staging import bulk_behind
from models.views import AuditHeadView
from states.audit_hash import (
    _ENCODER,
    CHECKPOINT,
    CONTENT,
    MAIN,
    Entity,
    _chained,
    _text,
    _values,
    audit_event,
    canonical_payload,
    digest,
    now_utc,
)
from states.audit_verify import parse_kept_head, read_kept_heads, verify_chain, verify_chains

__all__ = [
    "CHECKPOINT",
    "CONTENT",
    "GENESIS",
    "MAIN",
    "Entity",
    "Moves",
    "_text",
    "append_events",
    "append_moves",
    "audit_event",
    "bind_chains",
    "campaign_chains",
    "canonical_payload",
    "chain_head",
    "checkpoint",
    "digest",
    "now_utc",
    "parse_kept_head",
    "read_kept_heads",
    "verify_chain",
    "verify_chains",
]

# A chain's head row, made by the chain's first append (its id from the database).
_NEW_HEAD = text(
    "INSERT INTO audit_head (chain, seq, hash) VALUES (:chain, 0, :genesis) "
    "ON CONFLICT (chain) DO NOTHING"
)
# PostgreSQL: n numbers of the trail's sequence, as the runs of consecutive ones they make
# (one run unless another process drew numbers at the same time).
_DRAW = text(
    "WITH drawn AS MATERIALIZED (SELECT nextval('audit_seq') AS seq FROM generate_series(1, :n)) "
    "SELECT min(seq), max(seq) FROM (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS run "
    "FROM drawn) runs GROUP BY run ORDER BY 1"
)


def _lock_head(session: Session, chain: str) -> tuple[int, str]:
    """Take `chain`'s head row (made on its first append) and read its last seq and hash."""
    lock = update(AuditHead).where(AuditHead.chain == chain).values(seq=AuditHead.seq)
    if session.execute(lock).rowcount == 0:  # type: ignore[attr-defined]
        session.execute(_NEW_HEAD, {"chain": chain, "genesis": GENESIS})
        session.execute(lock)
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.chain == chain))
    seq, hash_ = head.one()
    return int(seq), str(hash_)


def _numbers(session: Session, count: int) -> Iterator[int]:
    """`count` new sequence numbers, increasing; drawn once the chain's head is held, so each
    chain's events are numbered in the order they are chained."""
    if session.get_bind().dialect.name != "postgresql":  # one writer at a time
        last = session.scalar(select(func.max(AuditEvent.seq))) or 0
        return iter(range(last + 1, last + 1 + count))
    if count == 1:
        return iter([int(session.scalar(text("SELECT nextval('audit_seq')")))])
    runs = session.execute(_DRAW, {"n": count}).all()
    return chained_ranges.from_iterable(range(first, last + 1) for first, last in runs)


def _set_head(session: Session, chain: str, seq: int, hash_: str) -> None:
    session.execute(update(AuditHead).where(AuditHead.chain == chain).values(seq=seq, hash=hash_))


def append_events(session: Session, events: Iterable[dict[str, Any]], chain: str = MAIN) -> int:
    """Append events (without seq, recorded_at or hashes) to `chain`; returns the last seq.

    Each event holds: at, actor, entity, entity_id, campaign_id, unit_id, member_id, trigger,
    from_state, to_state, reason, payload (canonical JSON text)."""
    rows = list(events)
    if not rows:
        return 0
    _, prev = _lock_head(session, chain)
    recorded_at = now_utc()
    seq = 0
    for row, seq in zip(rows, _numbers(session, len(rows)), strict=True):
        row["seq"], row["recorded_at"], row["prev_hash"] = seq, recorded_at, prev
        row["hash"] = prev = digest(prev, row)
        row["chain"] = chain
    _insert(session, rows)
    _set_head(session, chain, seq, prev)
    return seq


_COLUMNS = (*CONTENT, "prev_hash", "hash", "chain")


@dataclass(frozen=True)
class Moves:
    """One set-based transition's events: everything shared, and per moved entity its
    (entity_id, campaign_id, unit_id, member_id)."""

    at: dt.date
    actor: str
    entity: str
    trigger: str
    from_state: str
    to_state: str
    reason: str | None
    payload: str
    rows: Sequence[tuple[int, int | None, int | None, int | None]]


def append_moves(session: Session, moves: Moves, chain: str = MAIN) -> int:
    """Append the events of a set-based transition to `chain`; returns the last seq (0 if none).

    The same chain as `append_events`, hashed by the same `_chained` over the same `_text`,
    but what the events share is encoded once and each event's text is its own five numbers
    put between those pieces: the hot path of the engine, where an event costs a few
    microseconds instead of a dict and a JSON encoding."""
    if not moves.rows:
        return 0
    _, prev = _lock_head(session, chain)
    numbers, seq = _numbers(session, len(moves.rows)), 0
    shared = {
        "at": moves.at,
        "recorded_at": now_utc(),
        "actor": moves.actor,
        "entity": moves.entity,
        "trigger": moves.trigger,
        "from_state": moves.from_state,
        "to_state": moves.to_state,
        "reason": moves.reason,
        "payload": moves.payload,
    }
    before_seq, before_id, before_campaign, before_unit, before_member, end = _pieces(shared)
    # Hashing holds Python's lock, the database's writing mostly does not: the events are
    # written on a second thread while the next ones are hashed (PostgreSQL: one COPY, a
    # third of the time of an INSERT per event; SQLite: multi-row INSERTs, what they share
    # bound once).
    with bulk_behind(session, "audit_event", _MOVED, shared={**shared, "chain": chain}) as add:
        for (entity_id, campaign_id, unit_id, member_id), seq in zip(
            moves.rows, numbers, strict=True
        ):
            text_ = (  # each own number put after its piece, a missing id as JSON's null
                f"{before_seq}{seq}{before_id}{entity_id}"
                f"{before_campaign}{'null' if campaign_id is None else campaign_id}"
                f"{before_unit}{'null' if unit_id is None else unit_id}"
                f"{before_member}{'null' if member_id is None else member_id}{end}"
            )
            hashed = _chained(prev, text_)
            add((seq, entity_id, campaign_id, unit_id, member_id, prev, hashed))
            prev = hashed
    _set_head(session, chain, seq, prev)
    return seq


# Each event's own fields in a set-based transition (in CONTENT's order), all integers.
_OWN = ("seq", "entity_id", "campaign_id", "unit_id", "member_id")
# What differs between the events of one set-based transition; the rest they share.
_MOVED = (*_OWN, "prev_hash", "hash")


def _pieces(shared: Mapping[str, Any]) -> list[str]:
    """`_text` of the events that share `shared`, cut where each one's own fields go (_OWN):
    a JSON list is its items' JSON between commas, in brackets; a NUL marks the cuts (JSON
    escapes it in every string)."""
    values = _values({**shared, **dict.fromkeys(_OWN)})
    items = (
        "\x00" if k in _OWN else _ENCODER.encode(v) for k, v in zip(CONTENT, values, strict=True)
    )
    return f"[{','.join(items)}]".split("\x00")


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, "audit_event", _COLUMNS, [tuple(r[c] for c in _COLUMNS) for r in rows])


def campaign_chains(session: Session, campaign_id: int) -> dict[str, tuple[int, str]]:
    """The heads (last seq, hash) of a campaign's own chains (`f"{campaign_id}:…"`), by name."""
    prefix = f"{campaign_id}:"
    heads = select(AuditHead.chain, AuditHead.seq, AuditHead.hash).where(
        func.substr(AuditHead.chain, 1, len(prefix)) == prefix
    )
    return {
        chain: (seq, hash_)
        for chain, seq, hash_ in session.execute(heads.order_by(AuditHead.chain))
    }


def checkpoint(session: Session, campaign_id: int, at: dt.date, actor: str) -> int:
    """Append to the main chain one event binding the heads of the campaign's chains (its
    payload: {chain: [seq, hash]}); returns its seq. The heads are read before the event is
    numbered: each is an event before it."""
    heads = campaign_chains(session, campaign_id)
    event = audit_event(
        at=at,
        actor=actor,
        about=Entity(CHECKPOINT, campaign_id, campaign_id),
        trigger="checkpoint",
        from_state="",
        to_state="",
        reason=f"the heads of the campaign's {len(heads)} chains",
        payload={chain: [seq, hash_] for chain, (seq, hash_) in heads.items()},
    )
    return append_events(session, [event])


def bind_chains(session: Session, campaign_id: int, at: dt.date, actor: str, *, since: int) -> int:
    """`checkpoint` the campaign's chains, unless it has none or their heads are those its last
    checkpoint recorded (a run that moved nothing appends nothing); returns its seq, or 0.
    `since`: a seq before the run's first event; a chain past it has moved."""
    heads = campaign_chains(session, campaign_id)
    if not heads:
        return 0
    if all(seq <= since for seq, _ in heads.values()):  # nothing moved in this run: look back
        last = session.scalar(
            select(AuditEvent.payload)
            .where(AuditEvent.campaign_id == campaign_id, AuditEvent.entity == CHECKPOINT)
            .where(AuditEvent.chain == MAIN)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
        if last is not None and json.loads(last) == {c: list(h) for c, h in heads.items()}:
            return 0
    return checkpoint(session, campaign_id, at, actor)


def chain_head(session: Session) -> AuditHeadView:
    """The main chain's head, as its head row records it: the last event's seq, hash and wall
    clock (it binds every other chain through the checkpoints)."""
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.chain == MAIN)
    ).one_or_none()
    if head is None:
        raise AuditBroken("the chain's head row is missing")
    recorded_at = session.scalar(select(AuditEvent.recorded_at).where(AuditEvent.seq == head.seq))
    return AuditHeadView(seq=head.seq, hash=head.hash, recorded_at=recorded_at)
