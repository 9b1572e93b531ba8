"""Changes of the roster, the tree and the plans as audit events: an import that moves a member
or a unit in or out of a campaign's targets appends them to the chain, in its own transaction,
with who made it.

A member's event goes from its old status to its new one, a unit's from its old kind to its new
one, a plan's from the campaign's state to the same; something new comes from `absent`. The
payload holds each changed field's `from` and `to`, the reason says it in words. Roster and tree
events belong to no campaign (campaign_id is None): the roster is every campaign's."""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from states.audit_chain import (
    Entity,
    Moves,
    append_events,
    append_moves,
    audit_event,
    canonical_payload,
)

ABSENT = "absent"

MEMBER, UNIT, CAMPAIGN = "member", "unit", "campaign"
ROSTER_ADD, ROSTER_UPDATE = "roster_add", "roster_update"
TREE_ADD, TREE_UPDATE = "tree_add", "tree_update"
PLAN_REGISTERED, PLAN_CHANGED = "plan_registered", "plan_changed"

# {field: (old, new)} of the fields that changed
Diff = Mapping[str, tuple[object, object]]


class Change(NamedTuple):
    """One entity's change: which entity, where it sits, its state before and after, and the
    fields that changed."""

    entity_id: int
    campaign_id: int | None
    unit_id: int | None
    member_id: int | None
    from_state: str
    to_state: str
    diff: Diff
    reason: str | None = None  # None: the diff in words


def diff_of(old: Mapping[str, object], new: Mapping[str, object]) -> dict[str, tuple[Any, Any]]:
    """The fields of `new` whose value differs from `old`'s, as (old, new)."""
    return {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v}


def record_changes(
    session: Session,
    entity: str,
    trigger: str,
    changes: Sequence[Change],
    *,
    at: dt.date,
    actor: str,
) -> int:
    """Append one event per change (few rows: each has its own payload); returns the last seq."""
    return append_events(
        session,
        (
            audit_event(
                at=at,
                actor=actor,
                about=Entity(entity, c.entity_id, c.campaign_id, c.unit_id, c.member_id),
                trigger=trigger,
                from_state=c.from_state,
                to_state=c.to_state,
                reason=c.reason if c.reason is not None else _in_words(c.diff),
                payload={k: {"from": o, "to": n} for k, (o, n) in c.diff.items()},
            )
            for c in changes
        ),
    )


def record_additions(
    session: Session,
    entity: str,
    trigger: str,
    to_state: str,
    rows: Sequence[tuple[int, int | None, int | None, int | None]],
    *,
    at: dt.date,
    actor: str,
    shared: Mapping[str, object] | None = None,
) -> int:
    """Append the events of new entities that share their state and `shared` fields, set-based
    (a province's first roster is 200,000 members): rows of (entity_id, campaign_id, unit_id,
    member_id). Returns the last seq (0 if none)."""
    shared = dict(shared or {})
    reason = _in_words({k: (None, v) for k, v in shared.items()}, added=True)
    payload = canonical_payload({k: {"from": None, "to": v} for k, v in shared.items()})
    return append_moves(
        session, Moves(at, actor, entity, trigger, ABSENT, to_state, reason, payload, rows)
    )


def _in_words(diff: Diff, *, added: bool = False) -> str:
    if added:
        return "; ".join(["new", *(f"{k} {_word(n)}" for k, (_, n) in diff.items())])
    return "; ".join(
        f"{k} changed" if _nested(o) or _nested(n) else f"{k} {_word(o)} → {_word(n)}"
        for k, (o, n) in diff.items()
    )


def _nested(value: object) -> bool:
    return isinstance(value, dict | list)


def _word(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
