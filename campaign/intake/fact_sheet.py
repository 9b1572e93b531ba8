"""Recording facts: validate a facts file against the organisation, the plan and the
lifecycles (replayed in date order), then store it whole or not at all."""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.fact_kinds import (
    FACT_KINDS,
    SCREENING_TRIGGERS,
    Reporter,
    fact_transition,
    kinds_moving,
)
from models.bulk import in_lists, insert_behind, without_gc_pauses
from models.campaigns import Campaign, get_campaign
from models.dates import parse_day
from models.errors import InputError, Problem, Problems
from models.facts import FACT_COLUMNS, Fact, FactKind, FactRow
from models.files import Sheet, read_sheet
from models.members import Member, MemberChange, MemberStatus
from models.plans import PlanFile
from models.units import Unit, UnitKind
from models.validation import problems_of
from states.lifecycles import ASSESSMENT, Lifecycle, next_state, opening_state

ACTIVE = MemberStatus.active.value


@dataclass(frozen=True)
class FactsSummary:
    """What a facts import did."""

    file: str
    rows: int
    recorded: int
    already_recorded: int


@dataclass(frozen=True)
class _UnitInfo:
    id: int
    kind: UnitKind
    holds_members: bool
    in_scope: bool


@dataclass
class _Context:
    campaign: Campaign
    plan: PlanFile
    sheet: Sheet
    units: dict[str, _UnitInfo]
    members: dict[str, tuple[int, int, str]]  # code -> (id, unit_id, status)
    # member id -> the member's changes of unit, oldest first: (changed_on, unit left)
    moves: dict[int, list[tuple[dt.date, str]]]
    today: dt.date
    problems: list[Problem] = field(default_factory=Problems)
    reportable: dict[tuple[int, FactKind], bool] = field(default_factory=dict)

    @cached_property
    def unit_codes(self) -> dict[int, str]:
        """Unit id -> code."""
        return {info.id: code for code, info in self.units.items()}

    def bad(self, row: int, key: str, message: str) -> None:
        self.problems.append(self.sheet.problem(row, key, message))


class _Pending(NamedTuple):  # hundreds of thousands a file: a tuple builds fastest
    row: int
    fact: FactRow
    unit_id: int
    member_id: int | None
    key: str
    moves: "tuple[Lifecycle, str | None] | None"  # what the fact fires, if anything


@without_gc_pauses
def import_facts(
    code: str, path: Path, *, session: Session, actor: str, today: dt.date
) -> FactsSummary:
    """Record the facts of `path` for campaign `code`; refuse the whole file on any bad row."""
    campaign = get_campaign(session, code)
    sheet = read_sheet(path, FACT_COLUMNS)
    context = _context(session, campaign, sheet, today)
    # One import of a campaign's facts at a time (SQLite's writes are serial already): the
    # facts stored before this one are exactly those up to `stored_up_to`.
    session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    stored_up_to = session.scalar(select(func.max(Fact.id))) or 0
    known = _known_keys(session, campaign.id, sheet)
    # The new facts are written on a second thread while the rest of the file is checked; a
    # bad row anywhere rolls them back to this savepoint, whatever the caller does next.
    # (The block touches no database: the context holds what the checks need.)
    shared = {"campaign_id": campaign.id, "recorded_by": actor, "recorded_on": today}
    with session.begin_nested():
        fresh: list[_Pending] = []
        with insert_behind(session, "fact", FACT_COLUMNS_STORED, shared=shared) as store:
            for pending in _unique(r for r in _parse(context) if r.key not in known):
                store(_stored(pending))
                fresh.append(pending)
        _replay(session, context, fresh, stored_up_to)
        if context.problems:
            raise InputError(context.problems)
    return FactsSummary(sheet.name, len(sheet.rows), len(fresh), len(sheet.rows) - len(fresh))


def _context(session: Session, campaign: Campaign, sheet: Sheet, today: dt.date) -> _Context:
    owner_path = session.scalar(select(Unit.path).where(Unit.id == campaign.owner_id)) or "/"
    units = {
        code: _UnitInfo(uid, UnitKind(kind), holds, path.startswith(owner_path))
        for code, uid, kind, holds, path in session.execute(
            select(Unit.code, Unit.id, Unit.kind, Unit.holds_members, Unit.path)
        )
    }
    named = {line.cells.get("member", "") for line in sheet.rows} - {""}
    query = select(Member.code, Member.id, Member.unit_id, Member.status)
    chosen = [query] if len(named) > SCAN_ABOVE else in_lists(query, Member.code, named)
    members = {
        code: (mid, unit_id, status)
        for statement in chosen
        for code, mid, unit_id, status in session.execute(statement)
    }
    moves = _moves(session, [mid for mid, _, _ in members.values()], len(named) > SCAN_ABOVE)
    return _Context(campaign, campaign.plan_file, sheet, units, members, moves, today)


def _moves(
    session: Session, member_ids: list[int], scan: bool
) -> dict[int, list[tuple[dt.date, str]]]:
    """The dated changes of unit of the file's members, read at once (not per row): a fact
    takes, or is checked against, the unit its member was in on the fact's date."""
    query = (
        select(MemberChange.member_id, MemberChange.changed_on, MemberChange.old)
        .where(MemberChange.field == "unit")
        .order_by(MemberChange.changed_on, MemberChange.id)
    )
    chosen = [query] if scan else in_lists(query, MemberChange.member_id, member_ids)
    moves: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for statement in chosen:
        for member_id, changed_on, left in session.execute(statement):
            moves[member_id].append((changed_on, left))
    return moves


# A file naming more members (or touching more entities) than this is matched by one scan of the
# table; fewer, by lists of codes or ids: a day's facts must not read a whole party's roster.
SCAN_ABOVE = 20_000


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_or_none(cell: str) -> dt.date | None:
    """The day a date cell names when written plainly (15/03/2023 or 2023-03-15), as a row's
    validation reads it; else None (a datetime at midnight, say, read by pydantic)."""
    if "/" not in cell and not _ISO_DAY.fullmatch(cell):
        return None
    try:
        return parse_day(cell)
    except ValueError:
        return None


def _known_keys(session: Session, campaign_id: int, sheet: Sheet) -> set[str]:
    """The keys of stored facts the file's rows could repeat: those dated within the file's days
    (a range of the key index, since a key starts with its ISO date: a day's file reads a day's
    keys, not the campaign's), or every key when a date cell is not plainly written."""
    query = select(Fact.key).where(Fact.campaign_id == campaign_id)
    days = [_day_or_none(cell) for cell in {line.cells.get("date", "") for line in sheet.rows}]
    if days and None not in days:
        first, last = min(d for d in days if d), max(d for d in days if d)
        after_last = last + dt.timedelta(days=1)
        query = query.where(Fact.key >= first.isoformat(), Fact.key < after_last.isoformat())
    return set(session.scalars(query))


def _unique(rows: Iterable[_Pending]) -> Iterator[_Pending]:
    seen: set[str] = set()
    for row in rows:
        if row.key not in seen:
            seen.add(row.key)
            yield row


def _parse(context: _Context) -> Iterator[_Pending]:
    """The file's valid rows, as they are checked; the others become problems."""
    for line in context.sheet.rows:
        try:
            fact = FactRow.model_validate(line.cells)
        except ValidationError as exc:
            context.problems += problems_of(context.sheet, line.number, exc)
            continue
        pending = _check(context, line.number, fact)
        if pending is not None:
            yield pending


def _check(context: _Context, row: int, fact: FactRow) -> _Pending | None:
    plan = context.plan
    before = len(context.problems)
    if fact.date < plan.issued_on:
        context.bad(
            row,
            "date",
            f"{fact.date:%d/%m/%Y} is before the plan was issued ({plan.issued_on:%d/%m/%Y})",
        )
    elif fact.date > context.today:
        context.bad(row, "date", f"{fact.date:%d/%m/%Y} is in the future")
    if not fact.unit:
        found = _members_unit(context, row, fact)
        if found is None:
            return None
        fact = fact.model_copy(update={"unit": found})
    unit = context.units.get(fact.unit)
    if unit is None:
        context.bad(row, "unit", f"unknown unit '{fact.unit}'")
        return None
    if not unit.in_scope:
        context.bad(row, "unit", f"'{fact.unit}' is outside campaign {context.campaign.code}")
    _check_unit_kind(context, row, fact, unit)
    member_id = _check_member(context, row, fact, unit)
    if fact.kind is FactKind.screening_step and fact.note not in SCREENING_TRIGGERS:
        context.bad(row, "note", f"a screening step is one of {', '.join(SCREENING_TRIGGERS)}")
    if fact.kind is FactKind.activity_held and not fact.note:
        context.bad(row, "note", "name the activity held")
    if len(context.problems) > before:
        return None
    return _Pending(row, fact, unit.id, member_id, fact.key, _trigger(fact))


def _check_unit_kind(context: _Context, row: int, fact: FactRow, unit: _UnitInfo) -> None:
    if (unit.id, fact.kind) not in context.reportable:
        context.reportable[(unit.id, fact.kind)] = _reportable(context, fact.kind, unit)
    if not context.reportable[(unit.id, fact.kind)]:
        context.bad(row, "unit", f"a {unit.kind.value} does not report '{fact.kind.value}'")


def _reportable(context: _Context, kind: FactKind, unit: _UnitInfo) -> bool:
    """Whether a unit of this kind reports facts of `kind` under the plan."""
    is_owner = unit.id == context.campaign.owner_id
    reporter = Reporter(unit.kind, unit.holds_members, is_owner, context.plan.sessions.per)
    return FACT_KINDS[kind].reported_by(reporter)


def _members_unit(context: _Context, row: int, fact: FactRow) -> str | None:
    """The code of the unit a fact left empty: its member's at the fact's date."""
    if not fact.member:
        context.bad(row, "unit", "is empty (give the unit, or the member whose unit it is)")
        return None
    found = _known_member(context, row, fact.member)
    if found is None:
        return None
    member_id, unit_id, _ = found
    return _unit_on(context, member_id, fact.date) or context.unit_codes[unit_id]


def _known_member(context: _Context, row: int, code: str) -> tuple[int, int, str] | None:
    """The roster's (id, unit id, status) of member `code`, or None with the row refused."""
    found = context.members.get(code)
    if found is None:
        context.bad(row, "member", f"unknown member '{code}'")
    return found


def _unit_on(context: _Context, member_id: int, day: dt.date) -> str | None:
    """The code of the unit the member left after `day`, if any: the unit they were in then
    (None: they are still in the unit they were in on `day`)."""
    for changed_on, left in context.moves.get(member_id, ()):
        if changed_on > day:  # a change dated D holds from D on
            return left
    return None


def _check_member(context: _Context, row: int, fact: FactRow, unit: _UnitInfo) -> int | None:
    if not fact.member:
        if FACT_KINDS[fact.kind].needs_member:
            context.bad(row, "member", f"'{fact.kind.value}' needs a member")
        return None
    found = _known_member(context, row, fact.member)
    if found is None:
        return None
    member_id, unit_id, status = found
    then = _unit_on(context, member_id, fact.date)
    if (context.units[then].id if then in context.units else unit_id) != unit.id:
        on = f" on {fact.date:%d/%m/%Y}" if member_id in context.moves else ""
        context.bad(row, "member", f"'{fact.member}' is not a member of '{fact.unit}'{on}")
    elif status != ACTIVE:
        context.bad(row, "member", f"'{fact.member}' is {status} and outside the targets")
    return member_id


def _trigger(fact: FactRow) -> tuple[Lifecycle, str | None] | None:
    return fact_transition(fact.kind, fact.note)


class _Event(NamedTuple):
    """A lifecycle fact in an entity's history: stored (row None) or new (its row)."""

    date: dt.date
    new: bool
    fact: FactRow
    row: int | None
    applied: bool = False


EntityKey = tuple[str, str, int]  # (lifecycle, "m" or "u", member or unit id)


def _entity(p: _Pending) -> EntityKey:
    assert p.moves is not None
    if p.member_id is not None:
        return (p.moves[0].name, "m", p.member_id)
    return (p.moves[0].name, "u", p.unit_id)


def _replay(session: Session, context: _Context, fresh: list[_Pending], stored_up_to: int) -> None:
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
    session: Session, context: _Context, touched: list[_Pending], stored_up_to: int
) -> Iterable[tuple[EntityKey, _Event]]:
    """The stored lifecycle facts of the touched entities: looked up by member and unit when
    they are few, one scan of the campaign's facts when they are many (never an IN list as long
    as the roster)."""
    wanted = {_entity(p) for p in touched}
    codes = {info.id: code for code, info in context.units.items()}
    member_codes = {mid: code for code, (mid, _, _) in context.members.items()}
    kinds = [k.value for k in kinds_moving()]
    query = select(
        Fact.date, Fact.kind, Fact.unit_id, Fact.member_id, Fact.note, Fact.applied_on
    ).where(
        Fact.campaign_id == context.campaign.id,
        Fact.kind.in_(kinds),
        Fact.id <= stored_up_to,  # not this import's own rows, written already
    )
    if len(wanted) > SCAN_ABOVE:
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


def _replay_entity(context: _Context, events: list[_Event]) -> None:
    state: str | None = None
    # A new fact dated before one a run has applied comes too late.
    last_applied = max((i for i, e in enumerate(events) if e.applied), default=-1)
    for index, event in enumerate(events):
        lifecycle, trigger = _trigger(event.fact) or (None, None)
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


# A fact's own columns; the import's campaign, actor and day are shared by all its rows.
FACT_COLUMNS_STORED = ("date", "kind", "unit_id", "member_id", "note", "key")


def _stored(p: _Pending) -> tuple[object, ...]:
    """A fact's row, in FACT_COLUMNS_STORED order."""
    fact = p.fact
    return (fact.date, fact.kind.value, p.unit_id, p.member_id, fact.note, p.key)
