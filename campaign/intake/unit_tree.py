"""The units import: the organisation tree's input schema, its checks and its store, audited."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from models.calendar import today
from models.errors import InputError, Problem, Problems
from models.files import Column, Sheet, read_sheet
from models.members import Member
from models.units import Unit, UnitKind, bump_roster_revision, refresh_paths
from models.validation import Code, CodeRef, Name, Required, problems_of
from states.actors import SYSTEM_ACTOR
from states.roster import (
    TREE_ADD,
    TREE_UPDATE,
    UNIT,
    Change,
    diff_of,
    record_additions,
    record_changes,
)

UNIT_COLUMNS = [
    Column("code", "Mã đơn vị"),
    Column("name", "Tên đơn vị"),
    Column("kind", "Loại"),
    Column("parent", "Đơn vị cấp trên", required=False),
]


class UnitRow(BaseModel):
    """One row of a units file."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    code: Code
    name: Name
    kind: UnitKind
    parent: CodeRef | None = None

    @field_validator("parent", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return value or None


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    file: str
    rows: int
    created: int
    updated: int
    unchanged: int


@dataclass
class _Node:
    code: Required
    name: Required
    kind: UnitKind
    parent: str | None
    row: int | None  # None: already stored, not in the file


def _parse(sheet: Sheet) -> tuple[list[tuple[int, UnitRow]], list[Problem]]:
    parsed: list[tuple[int, UnitRow]] = []
    problems: list[Problem] = Problems()
    seen: dict[str, int] = {}
    for row in sheet.rows:
        try:
            unit = UnitRow.model_validate(row.cells)
        except ValidationError as exc:
            problems += problems_of(sheet, row.number, exc)
            continue
        if unit.code in seen:
            problems.append(
                sheet.problem(
                    row.number, "code", f"duplicate code '{unit.code}' (row {seen[unit.code]})"
                )
            )
            continue
        seen[unit.code] = row.number
        parsed.append((row.number, unit))
    return parsed, problems


def _stored_nodes(session: Session) -> dict[str, _Node]:
    parent = Unit.__table__.alias("parent")
    rows = session.execute(
        select(Unit.code, Unit.name, Unit.kind, parent.c.code).outerjoin(
            parent, parent.c.id == Unit.parent_id
        )
    )
    return {code: _Node(code, name, UnitKind(kind), p, None) for code, name, kind, p in rows}


def _check_tree(sheet: Sheet, nodes: dict[str, _Node]) -> list[Problem]:
    problems: list[Problem] = []
    for node in nodes.values():
        if node.row is None:
            continue
        if node.parent is None:
            if node.kind not in (UnitKind.province, UnitKind.district):
                problems.append(
                    sheet.problem(node.row, "parent", f"a {node.kind.value} needs a parent unit")
                )
            continue
        parent = nodes.get(node.parent)
        if parent is None:
            problems.append(sheet.problem(node.row, "parent", f"unknown unit '{node.parent}'"))
        elif parent.kind.level >= node.kind.level:
            problems.append(
                sheet.problem(
                    node.row,
                    "kind",
                    f"a {node.kind.value} cannot sit under the {parent.kind.value} '{parent.code}'",
                )
            )
    return problems + _cycles(sheet, nodes)


def _cycles(sheet: Sheet, nodes: dict[str, _Node]) -> list[Problem]:
    problems: list[Problem] = []
    for node in nodes.values():
        if node.row is None:
            continue
        seen = {node.code}
        current = nodes.get(node.parent) if node.parent else None
        while current is not None:
            if current.code in seen:
                problems.append(
                    sheet.problem(
                        node.row, "parent", f"'{node.code}' is its own ancestor (a cycle)"
                    )
                )
                break
            seen.add(current.code)
            current = nodes.get(current.parent) if current.parent else None
    return problems


def _holders_with_children(
    session: Session, sheet: Sheet, nodes: dict[str, _Node]
) -> list[Problem]:
    """Units that would gain a child while members sit in them directly."""
    parents_in_file = {n.parent: n for n in nodes.values() if n.row is not None and n.parent}
    if not parents_in_file:
        return []
    occupied = session.scalars(
        select(Unit.code)
        .join(Member, Member.unit_id == Unit.id)
        .where(Unit.code.in_(list(parents_in_file)))
        .distinct()
    )
    return [
        sheet.problem(
            parents_in_file[code].row,
            "parent",
            f"'{code}' holds members directly and cannot have units under it",
        )
        for code in occupied
    ]


def import_units(
    path: Path, *, session: Session, actor: str = SYSTEM_ACTOR, on: date | None = None
) -> ImportSummary:
    """Load or update the organisation tree from `path`; refuse the whole file on any bad row.

    Each new unit, and each unit whose parent or kind changed (what moves it and its members in
    or out of a campaign's targets), is an audit event by `actor` dated `on` (today)."""
    sheet = read_sheet(path, UNIT_COLUMNS)
    parsed, problems = _parse(sheet)
    nodes = _stored_nodes(session)
    stored = dict(nodes)
    for number, row in parsed:
        nodes[row.code] = _Node(row.code, row.name, row.kind, row.parent, number)
    problems += _check_tree(sheet, nodes)
    if not problems:
        problems += _holders_with_children(session, sheet, nodes)
    if problems:
        raise InputError(problems)
    summary = _store(session, sheet.name, nodes, stored)
    _audit(session, nodes, stored, at=on or today(), actor=actor)
    return summary


def _store(
    session: Session, name: str, nodes: dict[str, _Node], stored: dict[str, _Node]
) -> ImportSummary:
    in_file = [n for n in nodes.values() if n.row is not None]
    new = [n for n in in_file if n.code not in stored]
    changed = [n for n in in_file if n.code in stored and _differs(n, stored[n.code])]
    if new:
        session.execute(
            insert(Unit),
            [{"code": n.code, "name": n.name, "kind": n.kind.value, "path": ""} for n in new],
        )
    ids = dict(session.execute(select(Unit.code, Unit.id)).all())
    touched = new + changed
    if touched:
        session.execute(
            update(Unit),
            [
                {
                    "id": ids[n.code],
                    "name": n.name,
                    "kind": n.kind.value,
                    "parent_id": ids[n.parent] if n.parent else None,
                }
                for n in touched
            ],
        )
        refresh_paths(session)
        bump_roster_revision(session)
    return ImportSummary(name, len(in_file), len(new), len(changed), len(in_file) - len(touched))


def _differs(node: _Node, old: _Node) -> bool:
    return (node.name, node.kind, node.parent) != (old.name, old.kind, old.parent)


def _audit(
    session: Session, nodes: dict[str, _Node], stored: dict[str, _Node], *, at: date, actor: str
) -> None:
    """The tree's events: new units set-based by kind, then one per unit whose parent or kind
    changed (a new name moves nothing)."""
    in_file = [n for n in nodes.values() if n.row is not None]
    new = [n for n in in_file if n.code not in stored]
    moved = [(n, diff_of(_place(stored[n.code]), _place(n))) for n in in_file if n.code in stored]
    if not new and not any(diff for _, diff in moved):
        return
    ids = dict(session.execute(select(Unit.code, Unit.id)).all())
    for kind in UnitKind:
        rows = sorted((ids[n.code], None, ids[n.code], None) for n in new if n.kind == kind)
        record_additions(session, UNIT, TREE_ADD, kind.value, rows, at=at, actor=actor)
    changes = [
        Change(ids[n.code], None, ids[n.code], None, stored[n.code].kind.value, n.kind.value, diff)
        for n, diff in moved
        if diff
    ]
    record_changes(session, UNIT, TREE_UPDATE, changes, at=at, actor=actor)


def _place(node: _Node) -> dict[str, object]:
    return {"parent": node.parent, "kind": node.kind.value}
