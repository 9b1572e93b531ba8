"""Whether a units or members file stays inside one account's subtree, checked before the
whole-tree import runs (the imports themselves know no account): every row refused by row and
column that would add, change or move a unit or member outside it, or move one in from
outside. The account's own unit may be listed, but not moved, merged or dissolved."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.intake.member_roster import MEMBER_COLUMNS
from campaign.intake.unit_tree import UNIT_COLUMNS
from models.bulk import in_lists
from models.errors import InputError, Problem, Problems
from models.files import Sheet, read_sheet
from models.members import Member
from models.units import Unit

OUTSIDE = "is outside your unit {unit}"


def check_units_within(session: Session, path: Path, within: str) -> None:
    """Refuse the units file `path` if a row reaches outside the subtree at `within`."""
    sheet = read_sheet(path, UNIT_COLUMNS)
    stored = _units(session)
    own = _code_of(within)
    new = {line.cells.get("code", "") for line in sheet.rows} - set(stored)
    problems: list[Problem] = Problems()

    def inside(code: str) -> bool:
        return code in new or stored.get(code, ("", ""))[0].startswith(within)

    for line in sheet.rows:
        cells = line.cells
        code, parent = cells.get("code", ""), cells.get("parent", "")
        if code in stored and not stored[code][0].startswith(within):
            problems.append(_outside(sheet, line.number, "code", code, own))
        elif code == own:
            if parent != stored[code][1] or cells.get("merged_into") or _dissolves(cells):
                message = f"your own unit {own} may not be moved, merged or dissolved here"
                problems.append(sheet.problem(line.number, "parent", message))
        elif not inside(parent):
            problems.append(_outside(sheet, line.number, "parent", parent or "(none)", own))
        merged = cells.get("merged_into", "")
        if merged and not inside(merged):
            problems.append(_outside(sheet, line.number, "merged_into", merged, own))
    if problems:
        raise InputError(problems)


def check_members_within(session: Session, path: Path, within: str) -> None:
    """Refuse the members file `path` if a row names a unit outside the subtree at `within`,
    or a member now in a unit outside it."""
    sheet = read_sheet(path, MEMBER_COLUMNS)
    stored = _units(session)
    own = _code_of(within)
    codes = {line.cells.get("code", "") for line in sheet.rows}
    query = select(Member.code, Unit.path).join(Unit, Unit.id == Member.unit_id)
    now_in = {
        code: unit_path
        for statement in in_lists(query, Member.code, codes)
        for code, unit_path in session.execute(statement)
    }
    problems: list[Problem] = Problems()
    for line in sheet.rows:
        unit, code = line.cells.get("unit", ""), line.cells.get("code", "")
        if unit in stored and not stored[unit][0].startswith(within):
            problems.append(_outside(sheet, line.number, "unit", unit, own))
        if code in now_in and not now_in[code].startswith(within):
            message = f"'{code}' is a member of a unit outside your unit {own}"
            problems.append(sheet.problem(line.number, "code", message))
    if problems:
        raise InputError(problems)


def _units(session: Session) -> dict[str, tuple[str, str]]:
    """Every unit's code → (path, parent's code)."""
    parent = Unit.__table__.alias("parent")
    rows = session.execute(
        select(Unit.code, Unit.path, parent.c.code).outerjoin(parent, parent.c.id == Unit.parent_id)
    )
    return {code: (path, up or "") for code, path, up in rows}


def _code_of(path: str) -> str:
    """'/TOWN/G1/' → 'G1'."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def _dissolves(cells: dict[str, str]) -> bool:
    return cells.get("status", "").strip().casefold() == "dissolved"


def _outside(sheet: Sheet, row: int, key: str, code: str, own: str) -> Problem:
    return sheet.problem(row, key, f"'{code}' " + OUTSIDE.format(unit=own))
