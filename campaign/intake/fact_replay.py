"""Replaying lifecycle facts at import: the new facts of the entities a file touches, with the
facts stored before, in date order through the machines. A fact its lifecycle refuses at its
date, or dated before one a run has already applied, is a problem of its row."""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.fact_kinds import fact_transition, kinds_moving
from models.bulk import in_lists
from models.facts import Fact, FactKind, FactRow
from states.lifecycles import ASSESSMENT, Lifecycle, next_state, opening_state


class PendingFact(NamedTuple):  # hundreds of thousands a file: a tuple builds fastest
    """A new fact of the file, checked: its row, the ids it names, its key, what it fires."""

    row: int
    fact: FactRow
    unit_id: int
    member_id: int | None
    key: str
    moves: "tuple[Lifecycle, str | None] | None"  # what the fact fires, if anything


@dataclass(frozen=True)
class ReplayContext:
    """What a replay needs of the import besides the database."""

    campaign_id: int
    unit_codes: Mapping[int, str]  # unit id -> code
    members: Mapping[str, tuple[int, int, str]]  # member code -> (id, unit_id, status)
    bad: Callable[[int, str, str], None]  # refuses a row: (row, column key, message)
    scan_above: int  # more entities than this are read by one scan of the campaign's facts


class _Event(NamedTuple):
    """A lifecycle fact in an entity's history: stored (row None) or new (its row)."""

    date: dt.date
    new: bool
    fact: FactRow
    row: int | None
    applied: bool = False


EntityKey = tuple[str, str, int]  # (lifecycle, "m" or "u", member or unit id)


def _entity(p: PendingFact) -> EntityKey:
    assert p.moves is not None
    if p.member_id is not None:
        return (p.moves[0].name, "m", p.member_id)
    return (p.moves[0].name, "u", p.unit_id)


def replay_lifecycles(
    session: Session, context: ReplayContext, fresh: list[PendingFact], stored_up_to: int
) -> None:
    """Replay every lifecycle fact of the touched entities in date order through the machines."""
    touched = [p for p in fresh if p.moves is not None]
    if not touched:
        return
    history: dict[EntityKey, list[_Event]] = defaultdict(list)
    for p in touched:
        history[_entity(p)].append(_Event(p.fact.date, True, p.fact, p.row))
    for key, event in _stored_history(session, context, touched, stored_up_to):
        history[key].append(event)
    for events in history.values():
        # Stored facts sort before new ones of the same day: they were recorded first.
        _replay_entity(context, sorted(events, key=_BY_DAY) if len(events) > 1 else events)


def _stored_history(
    session: Session, context: ReplayContext, touched: list[PendingFact], stored_up_to: int
) -> Iterable[tuple[EntityKey, _Event]]:
    """The stored lifecycle facts of the touched entities: looked up by member and unit when
    they are few, one scan of the campaign's facts when they are many (never an IN list as long
    as the roster)."""
    wanted = {_entity(p) for p in touched}
    codes = context.unit_codes
    member_codes = {mid: code for code, (mid, _, _) in context.members.items()}
    kinds = [k.value for k in kinds_moving()]
    query = select(
        Fact.date, Fact.kind, Fact.unit_id, Fact.member_id, Fact.note, Fact.applied_on
    ).where(
        Fact.campaign_id == context.campaign_id,
        Fact.kind.in_(kinds),
        Fact.id <= stored_up_to,  # not this import's own rows, written already
    )
    if len(wanted) > context.scan_above:
        queries = [query]
    else:
        by_member = {entity for _, by, entity in wanted if by == "m"}
        by_unit = {entity for _, by, entity in wanted if by == "u"}
        queries = in_lists(query, Fact.member_id, by_member) + in_lists(
            query.where(Fact.member_id.is_(None)), Fact.unit_id, by_unit
        )
    rows = (row for chosen in queries for row in session.execute(chosen))
    for day, kind, unit_id, member_id, note, applied_on in rows:
        found = fact_transition(kind, note)
        if found is None:
            continue
        key = (
            (found[0].name, "m", member_id)
            if member_id is not None
            else (found[0].name, "u", unit_id)
        )
        if key not in wanted:
            continue
        member = member_codes[member_id] if member_id is not None else ""
        row = FactRow(date=day, kind=FactKind(kind), unit=codes[unit_id], member=member, note=note)
        yield key, _Event(day, False, row, None, applied_on is not None)


_BY_DAY = itemgetter(0, 1)  # an _Event's (date, new)


def _replay_entity(context: ReplayContext, events: list[_Event]) -> None:
    state: str | None = None
    # A new fact dated before one a run has applied comes too late.
    last_applied = max((i for i, e in enumerate(events) if e.applied), default=-1)
    for index, event in enumerate(events):
        lifecycle, trigger = fact_transition(event.fact.kind, event.fact.note) or (None, None)
        assert lifecycle is not None
        new = _advance(lifecycle, state, trigger)
        late = event.new and index < last_applied
        if new is None or late:
            if event.row is not None:
                context.bad(event.row, "kind", _refusal(lifecycle, state, event, late))
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
    what = " ".join(filter(None, [event.fact.kind.value, event.fact.note]))
    if late:
        return (
            f"'{what}' on {event.date:%d/%m/%Y} is dated before facts of the same "
            f"{lifecycle.name} that a run has already applied"
        )
    shown = state or (lifecycle.initial if lifecycle is ASSESSMENT else "not opened")
    return f"'{what}' is not valid on {event.date:%d/%m/%Y}: the {lifecycle.name} is '{shown}'"
