"""What the audit trail hashes: each event's content in one canonical text, chained to the
previous event's hash; every event of every chain is built and hashed here."""

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

# The main chain's name: every event appended before chains existed is in it.
MAIN = ""
# The entity of a checkpoint event: the heads of a campaign's chains at the end of a run.
CHECKPOINT = "audit_checkpoint"

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
