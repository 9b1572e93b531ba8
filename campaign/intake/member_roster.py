"""The members import: the roster's input schema, its checks, and the changes it records.

The file is read row by row, each row validated (MemberRow) and staged (`member_stage`, a
table of the import's own: COPY on PostgreSQL); what needs the whole file — duplicate codes,
units that exist and hold members, changes dated in order — is SQL over the staged rows, and
so is the apply (`campaign.intake.roster_apply`). No process holds the file whole."""

from collections.abc import Callable, Iterator
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from campaign.intake.roster_apply import apply_roster
from campaign.intake.roster_stage import MEMBER_STAGE, changed_rows
from campaign.intake.unit_tree import ImportSummary
from models.bulk import without_gc_pauses
from models.dates import optional_day
from models.errors import InputError, Problem, Problems
from models.files import Column, Sheet, SheetRow, stream_sheet
from models.members import Member, MemberChange, MemberStatus
from models.staging import create_stage, drop_stage, index_stage, stage_rows
from models.units import Unit
from models.validation import Code, CodeRef, Name, OptionalText, problems_of
from states.actors import SYSTEM_ACTOR

MEMBER_COLUMNS = [
    Column("code", "Mã đảng viên"),
    Column("full_name", "Họ và tên"),
    Column("unit", "Chi bộ"),
    Column("leader", "Lãnh đạo, quản lý"),
    Column("position", "Chức vụ", required=False),
    Column("status", "Tình trạng", required=False),
    Column("since", "Từ ngày", required=False),
]


_YES_NO = {
    **dict.fromkeys(("yes", "có", "co", "1", "true", "x"), True),
    **dict.fromkeys(("no", "không", "khong", "0", "false"), False),
}


class MemberRow(BaseModel):
    """One row of a members file."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    code: Code
    full_name: Name
    unit: CodeRef
    leader: bool
    position: OptionalText = ""
    status: MemberStatus = MemberStatus.active
    since: date | None = None  # from when a change of the row holds; None: the import's date

    @field_validator("leader", mode="before")
    @classmethod
    def _yes_or_no(cls, value: object) -> bool:
        found = _YES_NO.get(str(value).strip().casefold())
        if found is None:
            raise ValueError("must be yes/no, có/không, 1/0 or true/false")
        return found

    @field_validator("status", mode="before")
    @classmethod
    def _empty_is_active(cls, value: object) -> object:
        return value or MemberStatus.active

    _a_day = field_validator("since", mode="before")(optional_day)


_NOTHING = (None,) * (len(MEMBER_STAGE.columns) - 4)  # an invalid row's values


@without_gc_pauses
def import_members(
    path: Path, *, session: Session, on: date, actor: str = SYSTEM_ACTOR
) -> ImportSummary:
    """Load or update the roster from `path`; changes of unit, status or leader flag are kept,
    dated by the row's `since` (Từ ngày), else `on`.

    The file is streamed into a staging table, then checked and applied by SQL, under a
    savepoint: a refused file stores nothing, even for a caller that catches the refusal and
    commits. Each new member, and each member whose status, unit or leader flag changed (what
    moves them in or out of a target), is an audit event by `actor` dated as its change, in
    the same transaction."""
    sheet, rows = stream_sheet(path, MEMBER_COLUMNS)
    with session.begin_nested():
        create_stage(session, MEMBER_STAGE)
        problems = _stage_file(session, sheet, rows, on)
        duplicates = _duplicates(session, sheet)
        if duplicates:  # a later row of a code is no change of the member: found by code
            index_stage(session, MEMBER_STAGE, "code")
        problems = _merged(duplicates, _unknown_units(session, sheet), problems)
        if session.scalar(select(Member.id).limit(1)) is not None:  # else nothing can change
            problems = _merged(problems, _out_of_order(session, sheet, bool(duplicates)))
        if problems:
            raise InputError(problems)
        valid, added, changed = apply_roster(session, actor=actor)
        drop_stage(session, MEMBER_STAGE)
    return ImportSummary(sheet.name, valid, added, changed, valid - added - changed)


def _stage_file(session: Session, sheet: Sheet, rows: Iterator[SheetRow], on: date) -> Problems:
    """Stage every row of the file as it is read; what is wrong with a row by itself is
    returned (the first Problems.KEPT of it)."""
    problems = Problems()
    with stage_rows(session, MEMBER_STAGE) as add:
        for line in rows:
            add(_staged(sheet, line, on, problems))
    return problems


def _staged(sheet: Sheet, line: SheetRow, on: date, problems: Problems) -> tuple[Any, ...]:
    cells = line.cells
    code, unit = cells.get("code", ""), cells.get("unit", "")
    member = _valid(sheet, line, on, problems)
    if member is None or "\x00" in "".join(cells.values()):
        # A NUL is refused by the reader once the rows are done; no database text holds one.
        return (line.number, code.replace("\x00", ""), unit.replace("\x00", ""), False, *_NOTHING)
    day = member.since or on
    return (
        line.number,
        code,
        unit,
        True,
        member.full_name,
        member.leader,
        member.position,
        member.status.value,
        day,
        member.since is not None,
    )


def _valid(sheet: Sheet, line: SheetRow, on: date, problems: Problems) -> MemberRow | None:
    """The row as a member, or None with what is wrong with it in `problems`."""
    try:
        member = MemberRow.model_validate(line.cells)
    except ValidationError as exc:
        problems += problems_of(sheet, line.number, exc)
        return None
    if member.since is not None and member.since > on:
        # The roster records what happened: a change holds from a day already come.
        message = f"{member.since:%d/%m/%Y} is after the import's date {on:%d/%m/%Y}"
        problems.append(sheet.problem(line.number, "since", message))
        return None
    return member


def _merged(*found: Problems) -> Problems:
    """The problems of several checks, each in row order, as one list in row order (a row's
    own in the order of the checks): the first Problems.KEPT kept, all of them counted."""
    merged = Problems()
    merged += sorted(chain.from_iterable(found), key=lambda p: p.row or 0)
    merged.more += sum(f.more for f in found)
    return merged


def _listed(session: Session, query: Select[Any], problem: Callable[[Any], Problem]) -> Problems:
    """The problems of `query`'s rows (in row order): the first Problems.KEPT read, all counted."""
    found = Problems()
    rows = session.execute(query.limit(Problems.KEPT + 1)).all()
    found += (problem(row) for row in rows[: Problems.KEPT])
    if len(rows) > Problems.KEPT:
        counted = select(func.count()).select_from(query.order_by(None).subquery())
        found.more = (session.scalar(counted) or 0) - Problems.KEPT
    return found


_S = MEMBER_STAGE.c


def _duplicates(session: Session, sheet: Sheet) -> Problems:
    """Every row repeating an earlier row's code, naming the first."""
    first = (
        select(_S.code, func.min(_S.row_no).label("first"))
        .where(_S.code != "")
        .group_by(_S.code)
        .having(func.count() > 1)
        .subquery()
    )
    query = (
        select(_S.row_no, _S.code, first.c.first)
        .join(first, first.c.code == _S.code)
        .where(_S.row_no > first.c.first)
        .order_by(_S.row_no)
    )
    return _listed(
        session,
        query,
        lambda r: sheet.problem(r.row_no, "code", f"duplicate code '{r.code}' (row {r.first})"),
    )


def _unknown_units(session: Session, sheet: Sheet) -> Problems:
    """Every row naming a unit that is not stored, or that holds units rather than members."""
    unit = Unit.__table__.c
    query = (
        select(_S.row_no, _S.unit, unit.id)
        .outerjoin(Unit, unit.code == _S.unit)
        .where(_S.unit != "", or_(unit.id.is_(None), unit.holds_members.is_(False)))
        .order_by(_S.row_no)
    )

    def problem(row: Any) -> Problem:
        if row.id is None:
            return sheet.problem(row.row_no, "unit", f"unknown unit '{row.unit}'")
        message = f"'{row.unit}' has units under it and holds no members"
        return sheet.problem(row.row_no, "unit", message)

    return _listed(session, query, problem)


def _out_of_order(session: Session, sheet: Sheet, duplicates: bool) -> Problems:
    """The changed rows dated before their member's last kept change: a member's dated changes
    stay in order, so the roster on any day is read from them."""
    kept = MemberChange.__table__.c
    last = func.max(kept.changed_on)
    query = (
        changed_rows(first_of_code=duplicates)
        .add_columns(last.label("last"))
        .join(MemberChange, kept.member_id == Member.__table__.c.id)
        .group_by(_S.row_no, _S.day)
        .having(_S.day < last)
        .order_by(_S.row_no)
    )

    def problem(row: Any) -> Problem:
        message = f"{row.day:%d/%m/%Y} is before the member's last change, on {row.last:%d/%m/%Y}"
        return sheet.problem(row.row_no, "since", message)

    return _listed(session, query, problem)
