"""The units import: the organisation tree's input schema, its checks and its store, audited.

A unit's change of parent, kind, name or status is kept with the day it holds from (the row's
`since`, else the import's date) in `unit_change`, and audited by who imported it. A unit
merged into another (`merged_into`) is dissolved and its members move to the survivor, as
member changes of that day; a unit dissolved outright must hold no member and no unit first."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from campaign.intake.tree_checks import (
    Changed,
    Node,
    check_tree,
    crowded_survivors,
    holders_with_children,
    left_behind,
    out_of_order,
)
from campaign.intake.unit_merge import Merger, merge_members, out_of_order_members
from models.calendar import today
from models.dates import optional_day
from models.errors import InputError, Problem, Problems
from models.files import Column, Sheet, SheetRow, stream_sheet
from models.staging import bulk_behind
from models.units import Unit, UnitChange, UnitKind, UnitStatus, bump_roster_revision, refresh_paths
from models.validation import Code, CodeRef, Name, problems_of
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
    Column("status", "Tình trạng", required=False),
    Column("merged_into", "Sáp nhập vào", required=False),
    Column("since", "Từ ngày", required=False),
]


class UnitRow(BaseModel):
    """One row of a units file."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    code: Code
    name: Name
    kind: UnitKind
    parent: CodeRef | None = None
    status: UnitStatus | None = None  # None: active, or dissolved when merged into another
    merged_into: CodeRef | None = None  # the unit that takes this one's members in
    since: date | None = None  # from when a change of the row holds; None: the import's date

    @field_validator("parent", "status", "merged_into", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return value or None

    _a_day = field_validator("since", mode="before")(optional_day)


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    file: str
    rows: int
    created: int
    updated: int
    unchanged: int


def _node(number: int, row: UnitRow) -> Node:
    dissolved = row.merged_into is not None or row.status is UnitStatus.dissolved
    status = UnitStatus.dissolved if dissolved else UnitStatus.active
    return Node(
        row.code, row.name, row.kind, row.parent, number, status, row.merged_into, row.since
    )


def _parse(
    sheet: Sheet, lines: Iterator[SheetRow], on: date, problems: list[Problem]
) -> Iterator[tuple[int, UnitRow]]:
    """The file's valid rows and their numbers, as they are read; what is wrong with the
    others goes to `problems`."""
    seen: dict[str, int] = {}
    for row in lines:
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
        if unit.since is not None and unit.since > on:
            # The tree records what happened: a change holds from a day already come.
            message = f"{unit.since:%d/%m/%Y} is after the import's date {on:%d/%m/%Y}"
            problems.append(sheet.problem(row.number, "since", message))
            continue
        if unit.merged_into is not None and unit.status is UnitStatus.active:
            message = "a unit merged into another is dissolved, not active"
            problems.append(sheet.problem(row.number, "status", message))
            continue
        yield row.number, unit


def _stored_nodes(session: Session) -> dict[str, Node]:
    parent, merged = Unit.__table__.alias("parent"), Unit.__table__.alias("merged")
    rows = session.execute(
        select(Unit.code, Unit.name, Unit.kind, parent.c.code, Unit.dissolved_on, merged.c.code)
        .outerjoin(parent, parent.c.id == Unit.parent_id)
        .outerjoin(merged, merged.c.id == Unit.merged_into_id)
    )
    return {
        code: Node(
            code,
            name,
            UnitKind(kind),
            p,
            None,
            UnitStatus.active if dissolved_on is None else UnitStatus.dissolved,
            into,
            dissolved_on,
        )
        for code, name, kind, p, dissolved_on, into in rows
    }


def _changed(nodes: dict[str, Node], stored: dict[str, Node], at: date) -> list[Changed]:
    found = []
    for node in nodes.values():
        old = stored.get(node.code)
        if node.row is not None and old is not None:
            diff = diff_of(old.fields(), node.fields())
            if diff:
                found.append(Changed(node, old, diff, node.since or at))
    return found


def _mergers(changed: list[Changed]) -> list[Merger]:
    """The units the file merges into another now: their members move to the survivor."""
    return [
        Merger(c.node.code, c.node.merged_into, c.day, c.node.row or 0)
        for c in changed
        if c.node.merged_into is not None and not c.old.dissolved
    ]


def import_units(
    path: Path, *, session: Session, actor: str = SYSTEM_ACTOR, on: date | None = None
) -> ImportSummary:
    """Load or update the organisation tree from `path`; refuse the whole file on any bad row.

    Each new unit, and each unit whose parent, kind, name or status changed, is an audit event
    by `actor` dated by the row's `since` (Từ ngày), else `on` (today); each change is kept in
    `unit_change` with that day. A unit merged into another hands its members over to it."""
    at = on or today()
    sheet, lines = stream_sheet(path, UNIT_COLUMNS)
    nodes = _stored_nodes(session)
    stored = dict(nodes)
    problems: list[Problem] = Problems()
    rows = 0  # the file streamed: its units held as the tree's nodes only
    for number, row in _parse(sheet, lines, at, problems):
        nodes[row.code] = _node(number, row)
        rows += 1
    problems += check_tree(sheet, nodes)
    changed = _changed(nodes, stored, at)
    if not problems:
        problems += holders_with_children(session, sheet, nodes)
        problems += left_behind(session, sheet, nodes, stored)
        problems += crowded_survivors(session, sheet, nodes, stored)
        problems += out_of_order(session, sheet, changed)
        problems += out_of_order_members(session, sheet, _mergers(changed))
    if problems:
        raise InputError(problems)
    new = [n for n in nodes.values() if n.row is not None and n.code not in stored]
    ids = _store(session, new, changed, at)
    _keep(session, changed, ids, actor)
    merge_members(session, _mergers(changed), actor=actor)
    _audit(session, new, changed, ids, at=at, actor=actor)
    return ImportSummary(sheet.name, rows, len(new), len(changed), rows - len(new) - len(changed))


def _store(session: Session, new: list[Node], changed: list[Changed], at: date) -> dict[str, int]:
    """Insert the new units, update the changed ones; the units' ids by code."""
    if new:  # by the database's bulk path (COPY on PostgreSQL); placed in the tree below
        shared = {"path": "", "holds_members": False}
        with bulk_behind(session, "unit", ["code", "name", "kind"], shared=shared) as add:
            for n in new:
                add((n.code, n.name, n.kind.value))
    ids = dict(session.execute(select(Unit.code, Unit.id)).all())
    touched = [(n, None, n.since or at) for n in new] + [(c.node, c.old, c.day) for c in changed]
    if touched:
        session.execute(
            update(Unit),
            [
                {
                    "id": ids[n.code],
                    "name": n.name,
                    "kind": n.kind.value,
                    "parent_id": ids[n.parent] if n.parent else None,
                    "dissolved_on": _dissolved_on(n, old, day),
                    "merged_into_id": ids[n.merged_into] if n.merged_into else None,
                }
                for n, old, day in touched
            ],
        )
        refresh_paths(session)
        bump_roster_revision(session)
    return ids


def _dissolved_on(node: Node, old: Node | None, day: date) -> date | None:
    """The day a unit is dissolved from: kept if it already was, else the change's day."""
    if not node.dissolved:
        return None
    return old.since if old is not None and old.dissolved else day


def _keep(session: Session, changed: list[Changed], ids: dict[str, int], actor: str) -> None:
    """Keep each changed field of each changed unit, dated (unit_change)."""
    kept = [
        {
            "unit_id": ids[c.node.code],
            "changed_on": c.day,
            "field": field,
            "old": old or "",
            "new": new or "",
            "actor": actor,
        }
        for c in changed
        for field, (old, new) in c.diff.items()
    ]
    if kept:
        session.execute(insert(UnitChange), kept)


def _audit(
    session: Session,
    new: list[Node],
    changed: list[Changed],
    ids: dict[str, int],
    *,
    at: date,
    actor: str,
) -> None:
    """The tree's events: new units set-based by day and kind, then one per changed unit, each
    dated by the day its change holds from."""
    added: dict[tuple[date, UnitKind], list[tuple[int, None, int, None]]] = defaultdict(list)
    for node in new:
        added[(node.since or at, node.kind)].append((ids[node.code], None, ids[node.code], None))
    for (day, kind), rows in sorted(added.items()):
        rows.sort()
        record_additions(session, UNIT, TREE_ADD, kind.value, rows, at=day, actor=actor)
    by_day: dict[date, list[Change]] = defaultdict(list)
    for c in changed:
        uid = ids[c.node.code]
        by_day[c.day].append(
            Change(uid, None, uid, None, c.old.kind.value, c.node.kind.value, c.diff)
        )
    for day in sorted(by_day):
        record_changes(session, UNIT, TREE_UPDATE, by_day[day], at=day, actor=actor)
