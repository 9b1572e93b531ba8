"""Replaying lifecycle facts at import: the new facts of the entities a file touches, with the
facts stored before, in date order through the machines. A fact its lifecycle refuses at its
date, or dated before one a run has already applied, is a problem of its row."""

import datetime as dt
from collections.abc import Callable
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from campaign.fact_kinds import FACT_KINDS, fact_transition, kinds_moving
from campaign.intake.fact_stage import FRESH
from models.facts import FactRow
from states.lifecycles import ASSESSMENT, Lifecycle, next_state, opening_state


class PendingFact(NamedTuple):  # hundreds of thousands a file: a tuple builds fastest
    """A new fact of the file, checked: its row, the ids it names, its key, what it fires."""

    row: int
    fact: FactRow
    unit_id: int
    member_id: int | None
    key: str
    moves: "tuple[Lifecycle, str | None] | None"  # what the fact fires, if anything


Refuse = Callable[[int, str, str], None]  # refuses a row: (row, column key, message)


class _Event(NamedTuple):
    """A lifecycle fact in an entity's history: stored (row None) or new (its row)."""

    date: dt.date
    new: bool
    kind: str
    note: str
    row: int | None
    applied: bool = False


def replay_lifecycles(session: Session, campaign_id: int, bad: Refuse, stored_up_to: int) -> None:
    """Replay every lifecycle fact of the entities the import's new facts touch (those of
    fact_stage.FRESH), with their stored ones, in date order through the machines: read from
    the database ordered by entity, one entity's history in memory at a time."""
    lifecycles = {s.lifecycle.name: s.lifecycle for s in FACT_KINDS.values() if s.lifecycle}
    statement = " UNION ALL ".join(
        [_NEW] + [_stored(lc, by) for lc in lifecycles.values() for by in ("member", "unit")]
    )
    # Stored facts sort before new ones of the same day (they were recorded first), each in
    # the order it was recorded, or written in the file.
    ordered = f"{statement} ORDER BY 1, 2, 3, 4, 5, 6"
    values = {"campaign": campaign_id, "up_to": stored_up_to}
    streamed = {"stream_results": True, "yield_per": 10_000}  # a server-side cursor
    rows = session.connection().execute(text(ordered), values, execution_options=streamed)
    for _, group in groupby(rows, key=_ENTITY):
        _replay_entity(bad, [_event(*row[3:]) for row in group])


_ENTITY = itemgetter(0, 1, 2)  # a row's lifecycle, by unit or member, entity id


def _event(
    day: dt.date | str, new: int, _: int, kind: str, note: str, row: int | None, applied: int
) -> _Event:
    # SQLite gives a date column of a text query as its ISO string.
    on = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return _Event(on, bool(new), kind, note, row, bool(applied))


# Columns: lifecycle, by unit (1) or member (0), entity id, date, new, sequence, kind, note,
# row, applied.
_NEW = f"""
SELECT lifecycle, CASE WHEN member_id IS NULL THEN 1 ELSE 0 END, COALESCE(member_id, unit_id),
    date, 1, line, kind, note, line, 0
FROM {FRESH} WHERE lifecycle IS NOT NULL
"""


def _stored(lifecycle: Lifecycle, by: str) -> str:
    """The stored facts of `lifecycle` (recorded before this import) of the entities its new
    facts touch, by member or by unit (a unit's own facts name no member)."""
    kinds = ", ".join(f"'{k.value}'" for k in kinds_moving(lifecycle))
    name = lifecycle.name
    if by == "member":
        entity, which = "f.member_id", "member_id IS NOT NULL"
        own = f"f.member_id IN (SELECT member_id FROM {FRESH} WHERE lifecycle = '{name}')"
    else:
        entity, which = "f.unit_id", "member_id IS NULL"
        own = (
            f"f.member_id IS NULL AND f.unit_id IN "
            f"(SELECT unit_id FROM {FRESH} WHERE lifecycle = '{name}' AND {which})"
        )
    return f"""
SELECT '{name}', {int(by == "unit")}, {entity}, f.date, 0, f.id, f.kind, f.note, NULL,
    CASE WHEN f.applied_on IS NULL THEN 0 ELSE 1 END
FROM fact f
WHERE f.campaign_id = :campaign AND f.id <= :up_to AND f.kind IN ({kinds}) AND {own}
"""


def _replay_entity(bad: Refuse, events: list[_Event]) -> None:
    state: str | None = None
    # A new fact dated before one a run has applied comes too late.
    last_applied = max((i for i, e in enumerate(events) if e.applied), default=-1)
    for index, event in enumerate(events):
        lifecycle, trigger = fact_transition(event.kind, event.note) or (None, None)
        assert lifecycle is not None
        new = _advance(lifecycle, state, trigger)
        late = event.new and index < last_applied
        if new is None or late:
            if event.row is not None:
                bad(event.row, "kind", _refusal(lifecycle, state, event, late))
            return
        state = new


def _advance(lifecycle: Lifecycle, state: str | None, trigger: str | None) -> str | None:
    if trigger is None:  # the fact opens a new case: allowed when none is open
        return opening_state(lifecycle) if state is None or lifecycle.is_final(state) else None
    if state is None:
        if lifecycle is not ASSESSMENT:  # screening cases and nominations are opened by a fact
            return None
        state = lifecycle.initial
    return next_state(lifecycle, state, trigger)


def _refusal(lifecycle: Lifecycle, state: str | None, event: _Event, late: bool) -> str:
    what = " ".join(filter(None, [event.kind, event.note]))
    if late:
        return (
            f"'{what}' on {event.date:%d/%m/%Y} is dated before facts of the same "
            f"{lifecycle.name} that a run has already applied"
        )
    shown = state or (lifecycle.initial if lifecycle is ASSESSMENT else "not opened")
    return f"'{what}' is not valid on {event.date:%d/%m/%Y}: the {lifecycle.name} is '{shown}'"
