"""The members import: the roster's input schema, its checks, and the changes it records."""

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from campaign.intake.unit_tree import ImportSummary
from models.bulk import in_lists, insert_behind, without_gc_pauses
from models.dates import optional_day
from models.errors import InputError, Problem, Problems
from models.files import Column, Sheet, read_sheet
from models.members import JOINED, Member, MemberChange, MemberStatus
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


def _parse(
    sheet: Sheet, units: dict[str, tuple[int, bool]], problems: list[Problem], on: date
) -> Iterator[tuple[int, MemberRow]]:
    """The file's valid rows and their numbers, in order; what is wrong with the others goes to
    `problems`."""
    seen: dict[str, int] = {}
    for line in sheet.rows:
        found = _check_code_and_unit(sheet, line.number, line.cells, seen, units)
        try:
            member = MemberRow.model_validate(line.cells)
        except ValidationError as exc:
            found += problems_of(sheet, line.number, exc)
        else:
            if member.since is not None and member.since > on:
                # The roster records what happened: a change holds from a day already come.
                message = f"{member.since:%d/%m/%Y} is after the import's date {on:%d/%m/%Y}"
                found.append(sheet.problem(line.number, "since", message))
        problems += found
        if not found:
            yield line.number, member


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


@dataclass
class _Sorted:
    """The file's valid rows sorted out against the stored roster: the new members, the changed
    ones with the day each change holds from, and how many rows were valid."""

    # new members' code, unit_id, leader, status and the day they joined
    joined: list[tuple[str, int, bool, str, date]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # _INSERTED's values
    # a changed member's code -> the day its change holds from, and its row
    since: dict[str, tuple[date, int]] = field(default_factory=dict)
    dated: set[str] = field(default_factory=set)  # the new members whose row gives a `since`
    valid: int = 0

    def take(
        self,
        member: MemberRow,
        unit_id: int,
        old: Any,
        store: Callable[[Sequence[Any]], None],
        when: tuple[date, int],
    ) -> None:
        """Sort one valid row, its change holding from `when` (the day, and the row's number):
        new (stored at once by `store`), changed, or as stored."""
        value = (
            member.code,
            member.full_name,
            unit_id,
            member.leader,
            member.position,
            member.status.value,
        )
        self.valid += 1
        if old is None:
            store(value)
            self.joined.append((member.code, unit_id, member.leader, value[5], when[0]))
            if member.since is not None:
                self.dated.add(member.code)
        elif value != old[1:]:
            self.changed.append(dict(zip(_INSERTED, value, strict=True)))
            self.since[member.code] = when


@without_gc_pauses
def import_members(
    path: Path, *, session: Session, on: date, actor: str = SYSTEM_ACTOR
) -> ImportSummary:
    """Load or update the roster from `path`; changes of unit, status or leader flag are kept,
    dated by the row's `since` (Từ ngày), else `on`.

    New members are written on a second thread while the file is still being checked (a
    province's roster is 200,000 rows), under a savepoint: a refused file stores nothing, even
    for a caller that catches the refusal and commits. Each new member, and each member whose
    status, unit or leader flag changed (what moves them in or out of a target), is an audit
    event by `actor` dated as its change, in the same transaction."""
    sheet = read_sheet(path, MEMBER_COLUMNS)
    units = {
        code: (uid, holds)
        for code, uid, holds in session.execute(select(Unit.code, Unit.id, Unit.holds_members))
    }
    stored = _stored(session)
    problems: list[Problem] = Problems()
    found = _Sorted()
    with session.begin_nested():
        with insert_behind(session, "member", _INSERTED) as store:
            for number, member in _parse(sheet, units, problems, on):
                old = stored.get(member.code)
                found.take(member, units[member.unit][0], old, store, (member.since or on, number))
        problems += _out_of_order(session, sheet, found, stored)
        if problems:
            raise InputError(problems)
        if found.changed:
            _store_changes(session, found, stored, actor=actor)
        if found.joined:
            ids = _new_ids(session, [code for code, *_ in found.joined], stored)
            _audit_joined(session, found.joined, ids, actor=actor)
            _keep_joined(session, found, ids, first_roster=not stored, actor=actor)
        if found.joined or found.changed:
            bump_roster_revision(session)
    added, changed = len(found.joined), len(found.changed)
    return ImportSummary(sheet.name, found.valid, added, changed, found.valid - added - changed)


_FIELDS = ("full_name", "unit_id", "leader", "position", "status")


_INSERTED = ("code", *_FIELDS)


def _stored(session: Session) -> dict[str, Any]:
    """The stored roster: code -> (id, code, *_FIELDS), a row compared as a tuple with the
    file's (code, *_FIELDS)."""
    query = select(Member.id, Member.code, *(getattr(Member, f) for f in _FIELDS))
    return {row.code: row for row in session.execute(query)}


def _store_changes(session: Session, found: _Sorted, stored: dict[str, Any], *, actor: str) -> None:
    """Update the changed members, keep their dated changes of status, unit or leader flag, and
    audit each member whose status, unit or leader flag changed (a new name or position moves
    no target), dated the day the change holds from."""
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    kept: list[dict[str, Any]] = []
    audited: dict[date, list[Change]] = defaultdict(list)
    for value in found.changed:
        old, (day, _) = stored[value["code"]], found.since[value["code"]]
        diff = diff_of(
            {"status": old.status, "unit": codes[old.unit_id], "leader": old.leader},
            {"status": value["status"], "unit": codes[value["unit_id"]], "leader": value["leader"]},
        )
        kept += [  # what member_change keeps: a dated change of status, unit or leader flag
            {
                "member_id": old.id,
                "changed_on": day,
                "field": f,
                "old": _kept(o),
                "new": _kept(n),
                "actor": actor,
            }
            for f, (o, n) in diff.items()
        ]
        if diff:
            change = Change(
                old.id, None, value["unit_id"], old.id, old.status, value["status"], diff
            )
            audited[day].append(change)
    if kept:
        session.execute(insert(MemberChange), kept)
    session.execute(update(Member), [{**v, "id": stored[v["code"]].id} for v in found.changed])
    for day in sorted(audited):
        record_changes(session, MEMBER, ROSTER_UPDATE, audited[day], at=day, actor=actor)


def _out_of_order(
    session: Session, sheet: Sheet, found: _Sorted, stored: dict[str, Any]
) -> list[Problem]:
    """The changed rows dated before their member's last kept change: a member's dated changes
    stay in order, so the roster on any day is read from them."""
    ids = {stored[code].id: code for code in found.since}
    query = select(MemberChange.member_id, func.max(MemberChange.changed_on)).group_by(
        MemberChange.member_id
    )
    last: dict[int, date] = {}
    for statement in in_lists(query, MemberChange.member_id, ids):
        last.update(session.execute(statement).all())
    problems = []
    for member_id, day in sorted(last.items(), key=lambda kept: found.since[ids[kept[0]]][1]):
        since, number = found.since[ids[member_id]]
        if since < day:
            message = f"{since:%d/%m/%Y} is before the member's last change, on {day:%d/%m/%Y}"
            problems.append(sheet.problem(number, "since", message))
    return problems


def _kept(value: object) -> str:
    """A changed field's value as member_change keeps it: a leader flag as yes or no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _keep_joined(
    session: Session, found: _Sorted, ids: dict[str, int], *, first_roster: bool, actor: str
) -> None:
    """Keep the day each new member joined (`JOINED`, to the unit joined), what a plan's cut-off
    for new members and the roster on a past day are read from. The first roster imported is
    the organisation as it stands, not members joining: its rows are kept only with a `since`."""
    joined = [j for j in found.joined if not first_roster or j[0] in found.dated]
    if not joined:
        return
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    kept = [
        {
            "member_id": ids[code],
            "changed_on": day,
            "field": JOINED,
            "old": "",
            "new": codes[unit],
            "actor": actor,
        }
        for code, unit, _, _, day in joined
    ]
    session.execute(insert(MemberChange), kept)


def _audit_joined(
    session: Session,
    joined: list[tuple[str, int, bool, str, date]],
    ids: dict[str, int],
    *,
    actor: str,
) -> None:
    """The new members' events, set-based: one append per day, status and leader flag."""
    groups: dict[tuple[date, str, bool], list[tuple[int, None, int, int]]] = defaultdict(list)
    for code, unit_id, leader, status, day in joined:
        groups[(day, status, leader)].append((ids[code], None, unit_id, ids[code]))
    for (day, status, leader), rows in sorted(groups.items()):
        rows.sort()
        record_additions(
            session,
            MEMBER,
            ROSTER_ADD,
            status,
            rows,
            at=day,
            actor=actor,
            shared={"leader": leader},
        )


def _new_ids(session: Session, codes: list[str], stored: dict[str, Any]) -> dict[str, int]:
    """The ids of the members just inserted: above every stored id (one range read), or, for
    any the range missed, looked up by code."""
    first = max((row.id for row in stored.values()), default=0)
    ids = dict(session.execute(select(Member.code, Member.id).where(Member.id > first)).all())
    missed = [code for code in codes if code not in ids]
    for query in in_lists(select(Member.code, Member.id), Member.code, missed):
        ids.update(session.execute(query).all())  # rows, not the Result: it has keys()
    return ids
