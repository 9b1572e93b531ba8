"""Appending to and verifying the hash-chained audit trail.

Each event's hash is sha256(previous hash + canonical content). Appends take the chain's head
row first (`UPDATE audit_head SET seq = seq`: a row lock on PostgreSQL, the write lock on
SQLite), so two processes appending at once still leave one correct chain."""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.audit import GENESIS, AuditEvent, AuditHead
from models.bulk import bulk_insert, insert_behind
from models.errors import AuditBroken

CONTENT = (
    "seq",
    "at",
    "recorded_at",
    "actor",
    "entity",
    "entity_id",
    "campaign_id",
    "unit_id",
    "member_id",
    "trigger",
    "from_state",
    "to_state",
    "reason",
    "payload",
)


def canonical_payload(payload: Mapping[str, object] | None) -> str:
    """A payload as canonical JSON text."""
    return json.dumps(
        payload or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


# What json.dumps(..., separators=(",", ":"), ensure_ascii=False) builds on every call, built once.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def digest(prev_hash: str, event: Mapping[Any, Any]) -> str:
    """The hash of an event chained to the previous one."""
    content = [event[k].isoformat() if k == "at" else event[k] for k in CONTENT]
    return hashlib.sha256((prev_hash + _ENCODER.encode(content)).encode()).hexdigest()


def now_utc() -> str:
    """The wall clock, as the audit records it."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _lock_head(session: Session) -> tuple[int, str]:
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    return int(head.seq), str(head.hash)


def append_events(session: Session, events: Iterable[dict[str, Any]]) -> int:
    """Append events (without seq, recorded_at or hashes) to the chain; returns the last seq.

    Each event holds: at, actor, entity, entity_id, campaign_id, unit_id, member_id, trigger,
    from_state, to_state, reason, payload (canonical JSON text)."""
    rows = list(events)
    if not rows:
        return 0
    seq, prev = _lock_head(session)
    recorded_at = now_utc()
    for row in rows:
        seq += 1
        row["seq"], row["recorded_at"], row["prev_hash"] = seq, recorded_at, prev
        row["hash"] = prev = digest(prev, row)
    _insert(session, rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
    return seq


_COLUMNS = (*CONTENT, "prev_hash", "hash")
# What differs between the events of one set-based transition; the rest they share.
_MOVED = ("seq", "entity_id", "campaign_id", "unit_id", "member_id", "prev_hash", "hash")


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


def append_moves(session: Session, moves: Moves) -> int:
    """Append the events of a set-based transition; returns the last seq (0 if none).

    The same chain as `append_events`, hashed over the same JSON text, but the shared values
    are encoded once and each event's text is four numbers between them: the hot path of the
    engine, where an event costs a few microseconds instead of a dict and a JSON encoding."""
    if not moves.rows:
        return 0
    seq, prev = _lock_head(session)
    recorded_at = now_utc()
    head = ",".join(
        _ENCODER.encode(v) for v in (moves.at.isoformat(), recorded_at, moves.actor, moves.entity)
    )
    tail = ",".join(
        _ENCODER.encode(v)
        for v in (moves.trigger, moves.from_state, moves.to_state, moves.reason, moves.payload)
    )
    shared = {
        "at": moves.at,
        "recorded_at": recorded_at,
        "actor": moves.actor,
        "entity": moves.entity,
        "trigger": moves.trigger,
        "from_state": moves.from_state,
        "to_state": moves.to_state,
        "reason": moves.reason,
        "payload": moves.payload,
    }
    # Hashing holds Python's lock, SQLite's inserting mostly does not: the events are written
    # on a second thread while the next ones are hashed; what they share is bound once.
    with insert_behind(session, "audit_event", _MOVED, shared=shared) as add:
        for entity_id, campaign_id, unit_id, member_id in moves.rows:
            seq += 1
            text = (
                f"[{seq},{head},{entity_id},{_json_int(campaign_id)},{_json_int(unit_id)},"
                f"{_json_int(member_id)},{tail}]"
            )
            hashed = hashlib.sha256((prev + text).encode()).hexdigest()
            add((seq, entity_id, campaign_id, unit_id, member_id, prev, hashed))
            prev = hashed
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
    return seq


def _json_int(value: int | None) -> str:
    return "null" if value is None else str(value)


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, "audit_event", _COLUMNS, [tuple(r[c] for c in _COLUMNS) for r in rows])


def verify_chain(session: Session, *, batch: int = 50_000) -> int:
    """Recompute the whole chain; raise AuditBroken naming the first event that does not hold."""
    columns = [getattr(AuditEvent, c) for c in (*CONTENT, "prev_hash", "hash")]
    expected_seq, prev = 1, GENESIS
    query = select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for row in session.execute(query):
        event = row._mapping
        if event["seq"] != expected_seq:
            raise AuditBroken(f"event {expected_seq} is missing (found {event['seq']} next)")
        if event["prev_hash"] != prev:
            raise AuditBroken(f"event {event['seq']} does not follow event {expected_seq - 1}")
        if digest(prev, event) != event["hash"]:
            raise AuditBroken(
                f"event {event['seq']} was altered: its content does not match its hash"
            )
        expected_seq, prev = expected_seq + 1, event["hash"]
    _check_head(session, expected_seq - 1, prev)
    return expected_seq - 1


def _check_head(session: Session, last: int, last_hash: str) -> None:
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if (head.seq, head.hash) != (last, last_hash):
        raise AuditBroken(
            f"event {last + 1} is missing: the chain's head records event "
            f"{head.seq}, the trail ends at {last}"
        )
