"""The roster: the `member` table, dated changes of a member, the input schema and its import."""

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import Date, ForeignKey, String, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.bulk import bulk_insert, without_gc_pauses
from models.errors import InputError, Problem
from models.files import Column, Sheet, read_sheet
from models.units import ImportSummary, Unit, bump_roster_revision
from models.validation import Required, problems_of


class MemberStatus(StrEnum):
    """A member's standing for the campaign's targets."""

    active = "active"
    exempt = "exempt"  # miễn sinh hoạt đảng
    transferred_out = "transferred_out"  # chuyển sinh hoạt đảng tạm thời ra ngoài


class Member(Base):
    """A party member (đảng viên), held by one unit that holds members."""

    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    leader: Mapped[bool] = mapped_column(default=False)
    position: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(24), default=MemberStatus.active.value)


class MemberChange(Base):
    """A dated change of a member's unit or status, kept when a newer roster replaces it."""

    __tablename__ = "member_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    changed_on: Mapped[date] = mapped_column(Date)
    field: Mapped[str] = mapped_column(String(16))
    old: Mapped[str] = mapped_column(String(64))
    new: Mapped[str] = mapped_column(String(64))


MEMBER_COLUMNS = [
    Column("code", "Mã đảng viên"),
    Column("full_name", "Họ và tên"),
    Column("unit", "Chi bộ"),
    Column("leader", "Lãnh đạo, quản lý"),
    Column("position", "Chức vụ", required=False),
    Column("status", "Tình trạng", required=False),
]

_YES_NO = {
    **dict.fromkeys(("yes", "có", "co", "1", "true", "x"), True),
    **dict.fromkeys(("no", "không", "khong", "0", "false"), False),
}


class MemberRow(BaseModel):
    """One row of a members file."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    code: Required
    full_name: Required
    unit: Required
    leader: bool
    position: str = ""
    status: MemberStatus = MemberStatus.active

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


def _parse(
    sheet: Sheet, units: dict[str, tuple[int, bool]]
) -> tuple[list[MemberRow], list[Problem]]:
    rows: list[MemberRow] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for line in sheet.rows:
        found = _check_code_and_unit(sheet, line.number, line.cells, seen, units)
        try:
            member = MemberRow.model_validate(line.cells)
        except ValidationError as exc:
            found += problems_of(sheet, line.number, exc)
        problems += found
        if not found:
            rows.append(member)
    return rows, problems


def _check_code_and_unit(
    sheet: Sheet,
    number: int,
    cells: dict[str, str],
    seen: dict[str, int],
    units: dict[str, tuple[int, bool]],
) -> list[Problem]:
    problems = []
    code, unit_code = cells.get("code", ""), cells.get("unit", "")
    if code in seen:
        problems.append(
            sheet.problem(number, "code", f"duplicate code '{code}' (row {seen[code]})")
        )
    elif code:
        seen[code] = number
    unit = units.get(unit_code)
    if unit_code and unit is None:
        problems.append(sheet.problem(number, "unit", f"unknown unit '{unit_code}'"))
    elif unit is not None and not unit[1]:
        problems.append(
            sheet.problem(number, "unit", f"'{unit_code}' has units under it and holds no members")
        )
    return problems


@without_gc_pauses
def import_members(path: Path, *, session: Session, on: date) -> ImportSummary:
    """Load or update the roster from `path`; changes of unit or status are kept, dated `on`."""
    sheet = read_sheet(path, MEMBER_COLUMNS)
    units = {
        code: (uid, holds)
        for code, uid, holds in session.execute(select(Unit.code, Unit.id, Unit.holds_members))
    }
    rows, problems = _parse(sheet, units)
    if problems:
        raise InputError(problems)
    stored = {
        r.code: r
        for r in session.execute(
            select(
                Member.id,
                Member.code,
                Member.full_name,
                Member.unit_id,
                Member.leader,
                Member.position,
                Member.status,
            )
        )
    }
    values: list[dict[str, Any]] = [
        {
            "code": m.code,
            "full_name": m.full_name,
            "unit_id": units[m.unit][0],
            "leader": m.leader,
            "position": m.position,
            "status": m.status.value,
        }
        for m in rows
    ]
    new = [v for v in values if v["code"] not in stored]
    changed = [v for v in values if v["code"] in stored and _differs(v, stored[v["code"]])]
    if new:
        bulk_insert(session, "member", _INSERTED, [tuple(v[c] for c in _INSERTED) for v in new])
    if changed:
        _record_changes(session, changed, stored, on)
        session.execute(update(Member), [{**v, "id": stored[v["code"]].id} for v in changed])
    if new or changed:
        bump_roster_revision(session)
    return ImportSummary(
        sheet.name, len(rows), len(new), len(changed), len(rows) - len(new) - len(changed)
    )


_FIELDS = ("full_name", "unit_id", "leader", "position", "status")
_INSERTED = ("code", *_FIELDS)


def _differs(value: Mapping[str, Any], old: Any) -> bool:
    return any(value[f] != getattr(old, f) for f in _FIELDS)


def _record_changes(
    session: Session, changed: list[dict[str, Any]], stored: dict[str, Any], on: date
) -> None:
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    changes = []
    for value in changed:
        old = stored[value["code"]]
        if value["status"] != old.status:
            changes.append(
                {
                    "member_id": old.id,
                    "changed_on": on,
                    "field": "status",
                    "old": old.status,
                    "new": value["status"],
                }
            )
        if value["unit_id"] != old.unit_id:
            changes.append(
                {
                    "member_id": old.id,
                    "changed_on": on,
                    "field": "unit",
                    "old": codes[old.unit_id],
                    "new": codes[value["unit_id"]],
                }
            )
    if changes:
        session.execute(insert(MemberChange), changes)


def count_by_status(session: Session) -> dict[str, int]:
    """How many members of each status are stored."""
    query = select(Member.status, func.count()).group_by(Member.status)
    return dict(session.execute(query).all())


def count_leaders(session: Session) -> int:
    """How many members hold a leading or managing post."""
    return session.scalar(select(func.count()).where(Member.leader)) or 0
