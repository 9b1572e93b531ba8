"""The members import: the roster's input schema, its checks, and the changes it records."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from campaign.intake.unit_tree import ImportSummary
from models.bulk import in_lists, insert_behind, without_gc_pauses
from models.errors import InputError, Problem, Problems
from models.files import Column, Sheet, read_sheet
from models.members import Member, MemberChange, MemberStatus
from models.units import Unit, bump_roster_revision
from models.validation import Code, CodeRef, Name, OptionalText, problems_of
from states.actors import SYSTEM_ACTOR
from states.roster import (
    MEMBER,
    ROSTER_ADD,
    ROSTER_UPDATE,
    Change,
    diff_of,
    record_additions,
    record_changes,
)

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

    code: Code
    full_name: Name
    unit: CodeRef
    leader: bool
    position: OptionalText = ""
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
    sheet: Sheet, units: dict[str, tuple[int, bool]], problems: list[Problem]
) -> Iterator[MemberRow]:
    """The file's valid rows, in order; what is wrong with the others goes to `problems`."""
    seen: dict[str, int] = {}
    for line in sheet.rows:
        found = _check_code_and_unit(sheet, line.number, line.cells, seen, units)
        try:
            member = MemberRow.model_validate(line.cells)
        except ValidationError as exc:
            found += problems_of(sheet, line.number, exc)
        problems += found
        if not found:
            yield member


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
def import_members(
    path: Path, *, session: Session, on: date, actor: str = SYSTEM_ACTOR
) -> ImportSummary:
    """Load or update the roster from `path`; changes of unit or status are kept, dated `on`.

    New members are written on a second thread while the file is still being checked (a
    province's roster is 200,000 rows), under a savepoint: a refused file stores nothing, even
    for a caller that catches the refusal and commits. Each new member, and each member whose
    status, unit or leader flag changed (what moves them in or out of a target), is an audit
    event by `actor` dated `on`, in the same transaction."""
    sheet = read_sheet(path, MEMBER_COLUMNS)
    units = {
        code: (uid, holds)
        for code, uid, holds in session.execute(select(Unit.code, Unit.id, Unit.holds_members))
    }
    # code -> (id, code, *_FIELDS): a row compared as a tuple with the file's (code, *_FIELDS)
    stored = {
        row.code: row
        for row in session.execute(
            select(Member.id, Member.code, *(getattr(Member, f) for f in _FIELDS))
        )
    }
    problems: list[Problem] = Problems()
    changed: list[dict[str, Any]] = []
    joined: list[tuple[str, int, bool, str]] = []  # new members' code, unit_id, leader, status
    valid = 0
    with session.begin_nested():
        with insert_behind(session, "member", _INSERTED) as store:
            for member in _parse(sheet, units, problems):
                value = (
                    member.code,
                    member.full_name,
                    units[member.unit][0],
                    member.leader,
                    member.position,
                    member.status.value,
                )
                valid += 1
                old = stored.get(member.code)
                if old is None:
                    store(value)
                    joined.append((value[0], value[2], value[3], value[5]))
                elif value != old[1:]:
                    changed.append(dict(zip(_INSERTED, value, strict=True)))
        if problems:
            raise InputError(problems)
        if changed:
            _store_changes(session, changed, stored, on=on, actor=actor)
        if joined:
            _audit_joined(session, joined, stored, on=on, actor=actor)
        if joined or changed:
            bump_roster_revision(session)
    unchanged = valid - len(joined) - len(changed)
    return ImportSummary(sheet.name, valid, len(joined), len(changed), unchanged)


_FIELDS = ("full_name", "unit_id", "leader", "position", "status")


_INSERTED = ("code", *_FIELDS)


def _store_changes(
    session: Session,
    changed: list[dict[str, Any]],
    stored: dict[str, Any],
    *,
    on: date,
    actor: str,
) -> None:
    """Update the changed members, keep their dated changes of status or unit, and audit each
    whose status, unit or leader flag changed (a new name or position moves no target)."""
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    kept: list[dict[str, Any]] = []
    audited = []
    for value in changed:
        old = stored[value["code"]]
        diff = diff_of(
            {"status": old.status, "unit": codes[old.unit_id], "leader": old.leader},
            {"status": value["status"], "unit": codes[value["unit_id"]], "leader": value["leader"]},
        )
        kept += [  # what member_change keeps: a dated change of status or unit
            {
                "member_id": old.id,
                "changed_on": on,
                "field": f,
                "old": diff[f][0],
                "new": diff[f][1],
            }
            for f in ("status", "unit")
            if f in diff
        ]
        if diff:
            audited.append(
                Change(old.id, None, value["unit_id"], old.id, old.status, value["status"], diff)
            )
    if kept:
        session.execute(insert(MemberChange), kept)
    session.execute(update(Member), [{**v, "id": stored[v["code"]].id} for v in changed])
    record_changes(session, MEMBER, ROSTER_UPDATE, audited, at=on, actor=actor)


def _audit_joined(
    session: Session,
    joined: list[tuple[str, int, bool, str]],
    stored: dict[str, Any],
    *,
    on: date,
    actor: str,
) -> None:
    """The new members' events, set-based: one append per status and leader flag."""
    ids = _new_ids(session, [code for code, *_ in joined], stored)
    groups: dict[tuple[str, bool], list[tuple[int, None, int, int]]] = defaultdict(list)
    for code, unit_id, leader, status in joined:
        groups[(status, leader)].append((ids[code], None, unit_id, ids[code]))
    for (status, leader), rows in sorted(groups.items()):
        rows.sort()
        record_additions(
            session, MEMBER, ROSTER_ADD, status, rows, at=on, actor=actor, shared={"leader": leader}
        )


def _new_ids(session: Session, codes: list[str], stored: dict[str, Any]) -> dict[str, int]:
    """The ids of the members just inserted: above every stored id (one range read), or, for
    any the range missed, looked up by code."""
    first = max((row.id for row in stored.values()), default=0)
    ids = dict(session.execute(select(Member.code, Member.id).where(Member.id > first)).all())
    missed = [code for code in codes if code not in ids]
    for query in in_lists(select(Member.code, Member.id), Member.code, missed):
        ids.update(session.execute(query).tuples())
    return ids
