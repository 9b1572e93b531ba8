"""Recording facts: validate a facts file against the organisation, the plan and the
lifecycles (replayed in date order), then store it whole or not at all."""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.fact_kinds import FACT_KINDS, SCREENING_TRIGGERS, Reporter, fact_transition
from campaign.intake.fact_replay import PendingFact, ReplayContext, replay_lifecycles
from models.bulk import in_lists, without_gc_pauses
from models.campaigns import Campaign, get_campaign
from models.dates import parse_day
from models.errors import InputError, Problem, Problems
from models.facts import FACT_COLUMNS, Fact, FactKind, FactRow
from models.files import Sheet, SheetRow, stream_sheet
from models.members import Member, MemberChange, MemberStatus
from models.plans import PlanFile
from models.staging import bulk_behind
from models.units import Unit, UnitKind
from models.validation import problems_of

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
    path: str


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
    within: str | None = None  # the path of the importing account's unit, if it is bound to one
    problems: list[Problem] = field(default_factory=Problems)
    rows: int = 0  # the rows read so far
    reportable: dict[tuple[int, FactKind], bool] = field(default_factory=dict)

    @cached_property
    def unit_codes(self) -> dict[int, str]:
        """Unit id -> code."""
        return {info.id: code for code, info in self.units.items()}

    def bad(self, row: int, key: str, message: str) -> None:
        self.problems.append(self.sheet.problem(row, key, message))


@without_gc_pauses
def import_facts(
    code: str,
    source: Path | Sheet,
    *,
    session: Session,
    actor: str,
    today: dt.date,
    within: str | None = None,
) -> FactsSummary:
    """Record the facts of `source` (a file, or rows already read as its columns, such as a
    form's) for campaign `code`; refuse the whole of it on any bad row. With `within` (a unit's
    path), a row whose unit lies outside that subtree is refused too."""
    campaign = get_campaign(session, code)
    sheet, lines = _passes(source)
    named, days = _named(lines())
    context = _context(session, campaign, sheet, today, named)
    context.within = within
    # One import of a campaign's facts at a time (SQLite's writes are serial already): the
    # facts stored before this one are exactly those up to `stored_up_to`.
    session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    stored_up_to = session.scalar(select(func.max(Fact.id))) or 0
    known = _known_keys(session, campaign.id, days)
    # The new facts are written (COPY on PostgreSQL) while the rest of the file is read and
    # checked; a bad row anywhere rolls them back to this savepoint, whatever the caller does
    # next. (The block touches no database: the context holds what the checks need.) Only the
    # facts a lifecycle replays are kept in memory, not the file.
    shared = {"campaign_id": campaign.id, "recorded_by": actor, "recorded_on": today}
    with session.begin_nested():
        moving: list[PendingFact] = []
        recorded = 0
        with bulk_behind(session, "fact", FACT_COLUMNS_STORED, shared=shared) as store:
            for pending in _unique(r for r in _parse(context, lines()) if r.key not in known):
                store(_stored(pending))
                recorded += 1
                if pending.moves is not None:
                    moving.append(pending)
        replay_lifecycles(session, _replay_context(context), moving, stored_up_to)
        if context.problems:
            raise InputError(context.problems)
    return FactsSummary(sheet.name, context.rows, recorded, context.rows - recorded)


def _passes(source: Path | Sheet) -> tuple[Sheet, Callable[[], Iterator[SheetRow]]]:
    """The sheet, and its rows afresh at each call: a file is read twice, streamed (first the
    members and days it names, then its facts), never held whole; a form's rows are in hand."""
    if isinstance(source, Sheet):
        return source, lambda: iter(source.rows)
    sheet, first = stream_sheet(source, FACT_COLUMNS)
    opened = [first]

    def rows() -> Iterator[SheetRow]:
        return opened.pop() if opened else stream_sheet(source, FACT_COLUMNS)[1]

    return sheet, rows


def _named(lines: Iterable[SheetRow]) -> tuple[set[str], set[str]]:
    """The member codes the rows name, and their date cells as written."""
    named: set[str] = set()
    days: set[str] = set()
    for line in lines:
        named.add(line.cells.get("member", ""))
        days.add(line.cells.get("date", ""))
    return named - {""}, days


def _context(
    session: Session, campaign: Campaign, sheet: Sheet, today: dt.date, named: set[str]
) -> _Context:
    owner_path = session.scalar(select(Unit.path).where(Unit.id == campaign.owner_id)) or "/"
    units = {
        code: _UnitInfo(uid, UnitKind(kind), holds, path.startswith(owner_path), path)
        for code, uid, kind, holds, path in session.execute(
            select(Unit.code, Unit.id, Unit.kind, Unit.holds_members, Unit.path)
        )
    }
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


def _known_keys(session: Session, campaign_id: int, cells: set[str]) -> set[str]:
    """The keys of stored facts the file's rows could repeat: those dated within the file's days
    (a range of the key index, since a key starts with its ISO date: a day's file reads a day's
    keys, not the campaign's), or every key when a date cell is not plainly written."""
    query = select(Fact.key).where(Fact.campaign_id == campaign_id)
    days = [_day_or_none(cell) for cell in cells]
    if days and None not in days:
        first, last = min(d for d in days if d), max(d for d in days if d)
        after_last = last + dt.timedelta(days=1)
        query = query.where(Fact.key >= first.isoformat(), Fact.key < after_last.isoformat())
    return set(session.scalars(query))


def _unique(rows: Iterable[PendingFact]) -> Iterator[PendingFact]:
    seen: set[str] = set()
    for row in rows:
        if row.key not in seen:
            seen.add(row.key)
            yield row


def _parse(context: _Context, lines: Iterable[SheetRow]) -> Iterator[PendingFact]:
    """The file's valid rows, as they are checked (and counted); the others become problems."""
    for line in lines:
        context.rows += 1
        try:
            fact = FactRow.model_validate(line.cells)
        except ValidationError as exc:
            context.problems += problems_of(context.sheet, line.number, exc)
            continue
        pending = _check(context, line.number, fact)
        if pending is not None:
            yield pending


def _check(context: _Context, row: int, fact: FactRow) -> PendingFact | None:
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
    column = "unit" if fact.unit else "member"  # where the row names its unit
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
    elif context.within is not None and not unit.path.startswith(context.within):
        yours = context.within.rstrip("/").rsplit("/", 1)[-1]
        context.bad(row, column, f"'{fact.unit}' is outside your unit {yours}")
    _check_unit_kind(context, row, fact, unit)
    member_id = _check_member(context, row, fact, unit)
    if fact.kind is FactKind.screening_step and fact.note not in SCREENING_TRIGGERS:
        context.bad(row, "note", f"a screening step is one of {', '.join(SCREENING_TRIGGERS)}")
    if fact.kind is FactKind.activity_held and not fact.note:
        context.bad(row, "note", "name the activity held")
    if len(context.problems) > before:
        return None
    return PendingFact(
        row, fact, unit.id, member_id, fact.key, fact_transition(fact.kind, fact.note)
    )


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


def _replay_context(context: _Context) -> ReplayContext:
    return ReplayContext(
        context.campaign.id, context.unit_codes, context.members, context.bad, SCAN_ABOVE
    )


# A fact's own columns; the import's campaign, actor and day are shared by all its rows.
FACT_COLUMNS_STORED = ("date", "kind", "unit_id", "member_id", "note", "key")


def _stored(p: PendingFact) -> tuple[object, ...]:
    """A fact's row, in FACT_COLUMNS_STORED order."""
    fact = p.fact
    return (fact.date, fact.kind.value, p.unit_id, p.member_id, fact.note, p.key)
