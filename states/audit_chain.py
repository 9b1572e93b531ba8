"""Appending to and verifying the hash-chained audit trail.

Each event's hash is sha256(previous hash + canonical content). Appends take the chain's head
row first (`UPDATE audit_head SET seq = seq`: a row lock on PostgreSQL, the write lock on
SQLite), so two processes appending at once still leave one correct chain.

A chain recomputed whole verifies by itself, so the head is also kept outside the database
(`chain_head`, printed by `campaign audit head` and published by each run): `verify_chain`
checks those kept heads while it streams the trail."""

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import String, select, type_coerce, update
from sqlalchemy.orm import Session

from models.audit import GENESIS, AuditEvent, AuditHead
from models.bulk import bulk_insert, insert_behind
from models.errors import AuditBroken, InputError, Problem
from models.views import AuditHeadView

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


class Entity(NamedTuple):
    """What an event is about: the entity, and the campaign, unit and member it belongs to."""

    entity: str
    entity_id: int
    campaign_id: int | None = None
    unit_id: int | None = None
    member_id: int | None = None


def audit_event(
    *,
    at: dt.date,
    actor: str,
    about: Entity,
    trigger: str,
    from_state: str,
    to_state: str,
    reason: str | None,
    payload: Mapping[str, object] | None,
) -> dict[str, Any]:
    """One event to append (`append_events`): every event of the trail is built here."""
    return {
        "at": at,
        "actor": actor,
        **about._asdict(),
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "payload": canonical_payload(payload),
    }


# What json.dumps(..., separators=(",", ":"), ensure_ascii=False) builds on every call, built once.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def digest(prev_hash: str, event: Mapping[Any, Any]) -> str:
    """The hash of an event chained to the previous one."""
    return _chained(prev_hash, _text(event))


def _text(event: Mapping[Any, Any]) -> str:
    # What the chain hashes of an event: its CONTENT as one compact JSON list.
    return _ENCODER.encode(_values(event))


def _values(event: Mapping[Any, Any]) -> list[Any]:
    return [_iso(event[k]) if k == "at" else event[k] for k in CONTENT]


def _chained(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


def _iso(day: object) -> object:
    # A date as the chain hashes it; verification reads SQLite's stored text as it is.
    return day.isoformat() if isinstance(day, dt.date) else day


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

    The same chain as `append_events`, hashed by the same `_chained` over the same `_text`,
    but what the events share is encoded once and each event's text is its own five numbers
    put between those pieces: the hot path of the engine, where an event costs a few
    microseconds instead of a dict and a JSON encoding."""
    if not moves.rows:
        return 0
    seq, prev = _lock_head(session)
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
    # Hashing holds Python's lock, SQLite's inserting mostly does not: the events are written
    # on a second thread while the next ones are hashed; what they share is bound once.
    with insert_behind(session, "audit_event", _MOVED, shared=shared) as add:
        for entity_id, campaign_id, unit_id, member_id in moves.rows:
            seq += 1
            text = (  # each own number put after its piece, a missing id as JSON's null
                f"{before_seq}{seq}{before_id}{entity_id}"
                f"{before_campaign}{'null' if campaign_id is None else campaign_id}"
                f"{before_unit}{'null' if unit_id is None else unit_id}"
                f"{before_member}{'null' if member_id is None else member_id}{end}"
            )
            hashed = _chained(prev, text)
            add((seq, entity_id, campaign_id, unit_id, member_id, prev, hashed))
            prev = hashed
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
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


def verify_chain(
    session: Session, *, kept: Iterable[AuditHeadView] = (), batch: int = 50_000
) -> int:
    """Recompute the whole chain, streaming it, and check it still holds every kept head;
    raise AuditBroken naming the first event that does not hold. Returns the last seq."""
    expected = _by_seq(kept)
    if 0 in expected:
        _check_kept(0, GENESIS, expected.pop(0))
    columns = [
        type_coerce(AuditEvent.at, String).label("at") if c == "at" else getattr(AuditEvent, c)
        for c in (*CONTENT, "prev_hash", "hash")
    ]
    expected_seq, prev = 1, GENESIS
    query = select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    # Closed on a failure too: a server-side cursor left open would hold the table.
    with session.execute(query) as rows:
        for row in rows:
            event = row._mapping
            _check_event(event, expected_seq, prev)
            if expected and expected_seq in expected:
                _check_kept(expected_seq, event["hash"], expected.pop(expected_seq))
            expected_seq, prev = expected_seq + 1, event["hash"]
    _check_head(session, expected_seq - 1, prev)
    if expected:
        beyond = max(expected)
        raise AuditBroken(
            f"the trail ends at event {expected_seq - 1}; the kept head is event {beyond}"
        )
    return expected_seq - 1


def _check_event(event: Mapping[Any, Any], seq: int, prev: str) -> None:
    if event["seq"] != seq:
        raise AuditBroken(f"event {seq} is missing (found {event['seq']} next)")
    if event["prev_hash"] != prev:
        raise AuditBroken(f"event {seq} does not follow event {seq - 1}")
    try:
        hashed = digest(prev, event)
    except (TypeError, ValueError):  # a value no append could have written (SQLite's types)
        hashed = None
    if hashed != event["hash"]:
        raise AuditBroken(f"event {seq} was altered: its content does not match its hash")


def _by_seq(kept: Iterable[AuditHeadView]) -> dict[int, list[str]]:
    expected: dict[int, list[str]] = {}
    for head in kept:
        expected.setdefault(head.seq, []).append(head.hash.lower())
    return expected


def _check_kept(seq: int, found: str, hashes: list[str]) -> None:
    for kept in hashes:
        if kept != found:
            raise AuditBroken(
                f"the trail holds event {seq} with hash {_short(found)}, "
                f"the kept head says {_short(kept)}"
            )


def _short(hash_: object) -> str:
    return f"{hash_!s:.16}…"


def _check_head(session: Session, last: int, last_hash: str) -> None:
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
    ).one_or_none()
    if head is None:
        raise AuditBroken("the chain's head row is missing")
    if head.seq == last and head.hash != last_hash:
        raise AuditBroken(
            f"the chain's head row records event {last} with hash {_short(head.hash)}, the "
            f"trail's event {last} has hash {_short(last_hash)}"
        )
    if isinstance(head.seq, int) and head.seq < last:
        raise AuditBroken(
            f"the chain's head row records event {head.seq}, the trail goes on to event "
            f"{last}: events were added behind the head's back, or the head row was reset"
        )
    if (head.seq, head.hash) != (last, last_hash):
        raise AuditBroken(
            f"event {last + 1} is missing: the chain's head records event "
            f"{head.seq}, the trail ends at {last}"
        )


def chain_head(session: Session) -> AuditHeadView:
    """The chain's head, as its head row records it: the last event's seq, hash and wall clock."""
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
    ).one_or_none()
    if head is None:
        raise AuditBroken("the chain's head row is missing")
    recorded_at = session.scalar(select(AuditEvent.recorded_at).where(AuditEvent.seq == head.seq))
    return AuditHeadView(seq=head.seq, hash=head.hash, recorded_at=recorded_at)


# `SEQ:HASH`, as `--expect` takes it; the `keep` line of `audit head`'s table reads as one too.
_KEPT = re.compile(r"(?:keep\s+)?([0-9]+):([0-9a-fA-F]{64})")


def parse_kept_head(text: str) -> AuditHeadView:
    """A kept head given as `SEQ:HASH`, or as the JSON `audit head --format json` prints."""
    text = text.strip()
    if text.startswith("{"):
        try:
            head = AuditHeadView.model_validate_json(text)
        except ValidationError as exc:
            raise ValueError(f"not a kept head: {exc.errors()[0]['msg']}") from exc
        if _KEPT.fullmatch(f"{head.seq}:{head.hash}"):
            return head
    elif found := _KEPT.fullmatch(text):
        return AuditHeadView(seq=int(found[1]), hash=found[2].lower())
    raise ValueError(f"'{text[:80]}' is not a kept head (SEQ:HASH, a 64-hex-digit hash)")


def read_kept_heads(path: Path) -> list[AuditHeadView]:
    """The kept heads of a file: one `SEQ:HASH` or JSON head a line (blank lines and `#`
    comments skipped), or one JSON head or list of them; refused whole, line by line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start}): save it as UTF-8"
        raise InputError([Problem(path.name, None, None, problem)]) from exc
    lines = _whole_json(text)
    if lines is None:
        lines = [
            (number, line)
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    heads, problems = [], []
    for number, line in lines:
        try:
            heads.append(parse_kept_head(line))
        except ValueError as exc:
            problems.append(Problem(path.name, number, None, str(exc)))
    if problems:
        raise InputError(problems)
    return heads


def _whole_json(text: str) -> list[tuple[int | None, str]] | None:
    # A pretty-printed head (or a list of heads) spans lines: read it whole when it parses.
    try:
        data = json.loads(text)
    except ValueError:
        return None
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in items):
        return None
    return [(None, json.dumps(item)) for item in items]
