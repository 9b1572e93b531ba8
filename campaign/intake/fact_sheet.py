"""Recording facts: validate a facts file against the organisation, the plan and the
lifecycles (replayed in date order), then store it whole or not at all."""

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.fact_kinds import FACT_KINDS, SCREENING_TRIGGERS, Reporter, fact_transition
from campaign.intake.fact_replay import PendingFact, replay_lifecycles
from campaign.intake.fact_stage import FACT_STAGE, create_fact_stage, drop_fresh, record_staged
from models.bulk import in_lists, without_gc_pauses
from models.campaigns import Campaign, get_campaign
from models.errors import InputError, Problem, Problems
from models.facts import FACT_COLUMNS, Fact, FactKind, FactRow
from models.files import Sheet, SheetRow, stream_sheet
from models.members import Member, MemberChange, MemberStatus
from models.plans import PlanFile
from models.staging import stage_rows
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
    sheet, lines = _lines(source)
    context = _context(session, campaign, sheet, today)
    context.within = within
    # One import of a campaign's facts at a time (SQLite's writes are serial already): the
    # facts stored before this one are exactly those up to `stored_up_to`.
    session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    stored_up_to = session.scalar(select(func.max(Fact.id))) or 0
    # The file is read once, in chunks of CHUNK_ROWS: a chunk's members are read, then its rows
    # checked while the valid ones are staged (COPY on PostgreSQL); the database then records
    # the first row of each key not stored yet and hands the lifecycle facts to the replay,
    # ordered by entity. No process holds the file, its keys or its members whole. A bad row
    # anywhere rolls everything back to this savepoint, whatever the caller does next.
    with session.begin_nested():
        create_fact_stage(session)
        for chunk in _chunks(lines):
            _read_members(session, context, chunk)
            with stage_rows(session, FACT_STAGE) as stage:
                for pending in _parse(context, chunk):
                    stage(_staged(pending))
            # The collector is paused (without_gc_pauses): the chunk's member lookups leave
            # reference cycles holding their rows (~140 bytes a row, 0.5 GiB at 2M members).
            gc.collect(1)
        recorded = record_staged(session, campaign.id, actor, today)
        replay_lifecycles(session, campaign.id, context.bad, stored_up_to)
        drop_fresh(session)
        if context.problems:
            raise InputError(context.problems)
    return FactsSummary(sheet.name, context.rows, recorded, context.rows - recorded)


# Rows checked at a time: the members a chunk names are read by lists of codes.
CHUNK_ROWS = 50_000


def _chunks(lines: Iterator[SheetRow]) -> Iterator[list[SheetRow]]:
    while chunk := list(islice(lines, CHUNK_ROWS)):
        yield chunk


def _lines(source: Path | Sheet) -> tuple[Sheet, Iterator[SheetRow]]:
    """The sheet and its rows: a file's streamed, never held whole; a form's in hand."""
    if isinstance(source, Sheet):
        return source, iter(source.rows)
    return stream_sheet(source, FACT_COLUMNS)


def _context(session: Session, campaign: Campaign, sheet: Sheet, today: dt.date) -> _Context:
    owner_path = session.scalar(select(Unit.path).where(Unit.id == campaign.owner_id)) or "/"
    units = {
        code: _UnitInfo(uid, UnitKind(kind), holds, path.startswith(owner_path), path)
        for code, uid, kind, holds, path in session.execute(
            select(Unit.code, Unit.id, Unit.kind, Unit.holds_members, Unit.path)
        )
    }
    return _Context(campaign, campaign.plan_file, sheet, units, {}, {}, today)


def _read_members(session: Session, context: _Context, chunk: Sequence[SheetRow]) -> None:
    """The roster's members a chunk of rows names, and their dated changes of unit: a fact
    takes, or is checked against, the unit its member was in on the fact's date."""
    named = {line.cells.get("member", "") for line in chunk} - {""}
    query = select(Member.code, Member.id, Member.unit_id, Member.status)
    context.members = {
        code: (mid, unit_id, status)
        for statement in in_lists(query, Member.code, named)
        for code, mid, unit_id, status in session.execute(statement)
    }
    changes = (
        select(MemberChange.member_id, MemberChange.changed_on, MemberChange.old)
        .where(MemberChange.field == "unit")
        .order_by(MemberChange.changed_on, MemberChange.id)
    )
    ids = [mid for mid, _, _ in context.members.values()]
    moves: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for statement in in_lists(changes, MemberChange.member_id, ids):
        for member_id, changed_on, left in session.execute(statement):
            moves[member_id].append((changed_on, left))
    context.moves = moves


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


def _staged(p: PendingFact) -> tuple[object, ...]:
    """A fact's staged row, in FACT_STAGE's order."""
    fact = p.fact
    lifecycle = p.moves[0].name if p.moves is not None else None
    return (p.row, fact.date, fact.kind.value, p.unit_id, p.member_id, fact.note, p.key, lifecycle)
