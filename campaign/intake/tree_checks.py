"""The units file's checks: the tree it makes with the stored one (kinds under kinds, no
cycle, no working unit under a dissolved one, a survivor that can take a merged unit in), and
what the stored roster and changes forbid (members left in a dissolved unit or under a new
child, a change dated before the unit's last one)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.bulk import in_lists
from models.errors import Problem
from models.files import Sheet
from models.members import Member
from models.units import Unit, UnitChange, UnitKind, UnitStatus
from models.validation import Required


@dataclass
class Node:
    """A unit of the tree the file makes: from a row, or as stored."""

    code: Required
    name: Required
    kind: UnitKind
    parent: str | None
    row: int | None  # None: already stored, not in the file
    status: UnitStatus = UnitStatus.active
    merged_into: str | None = None
    since: date | None = None  # the row's; for a stored unit: the day it was dissolved

    def fields(self) -> dict[str, str | None]:
        """What a change is kept and audited by, as the stored values or codes."""
        return {
            "parent": self.parent,
            "kind": self.kind.value,
            "name": self.name,
            "status": self.status.value,
            "merged_into": self.merged_into,
        }

    @property
    def dissolved(self) -> bool:
        """Whether the unit no longer works (dissolved, or merged into another)."""
        return self.status is UnitStatus.dissolved


@dataclass(frozen=True)
class Changed:
    """A stored unit the file changes: as it is, as it was, what changed and from which day."""

    node: Node
    old: Node
    diff: dict[str, tuple[str | None, str | None]]
    day: date


def check_tree(sheet: Sheet, nodes: dict[str, Node]) -> list[Problem]:
    """What is wrong with the tree the file's rows make with the stored units."""
    problems: list[Problem] = []
    for node in nodes.values():
        if node.row is None:
            continue
        if node.parent is None:
            if node.kind not in (UnitKind.central, UnitKind.province, UnitKind.district):
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
        elif parent.dissolved and not node.dissolved:
            problems.append(sheet.problem(node.row, "parent", f"'{parent.code}' is dissolved"))
    return problems + _cycles(sheet, nodes) + _dissolutions(sheet, nodes)


def _cycles(sheet: Sheet, nodes: dict[str, Node]) -> list[Problem]:
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


def _dissolutions(sheet: Sheet, nodes: dict[str, Node]) -> list[Problem]:
    """The dissolved rows that still have working units under them, or whose survivor cannot
    take them in: unknown, itself, dissolved, or of another kind."""
    children: dict[str, list[str]] = defaultdict(list)
    for node in nodes.values():
        if node.parent and not node.dissolved:
            children[node.parent].append(node.code)
    problems: list[Problem] = []
    for node in nodes.values():
        if node.row is None or not node.dissolved:
            continue
        if children[node.code]:
            under = ", ".join(sorted(children[node.code])[:5])
            message = f"'{node.code}' still has units under it ({under}): move them first"
            problems.append(sheet.problem(node.row, "status", message))
        if node.merged_into is None:
            continue
        survivor = nodes.get(node.merged_into)
        if survivor is None:
            message = f"unknown unit '{node.merged_into}'"
        elif survivor.code == node.code:
            message = "a unit cannot merge into itself"
        elif survivor.dissolved:
            message = f"'{survivor.code}' is dissolved"
        elif survivor.kind is not node.kind:
            message = f"a {node.kind.value} merges into a {node.kind.value}, not a {survivor.kind}"
        else:
            continue
        problems.append(sheet.problem(node.row, "merged_into", message))
    return problems


def crowded_survivors(
    session: Session, sheet: Sheet, nodes: dict[str, Node], stored: dict[str, Node]
) -> list[Problem]:
    """Units merged now whose members would land in a survivor with working units under it."""
    parents = {n.parent for n in nodes.values() if n.parent and not n.dissolved}
    rows = {
        n.code: n
        for n in nodes.values()
        if n.row is not None and n.merged_into in parents
        if n.code in stored and not stored[n.code].dissolved
    }
    if not rows:
        return []
    held = session.scalars(
        select(Unit.code)
        .join(Member, Member.unit_id == Unit.id)
        .where(Unit.code.in_(list(rows)))
        .distinct()
    )
    return [
        sheet.problem(
            rows[code].row,
            "merged_into",
            f"'{rows[code].merged_into}' has units under it and cannot take in the members "
            f"of '{code}'",
        )
        for code in sorted(held, key=lambda code: rows[code].row or 0)
    ]


def holders_with_children(session: Session, sheet: Sheet, nodes: dict[str, Node]) -> list[Problem]:
    """Units that would gain a child while members sit in them directly."""
    parents_in_file = {
        n.parent: n for n in nodes.values() if n.row is not None and n.parent and not n.dissolved
    }
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


def left_behind(
    session: Session, sheet: Sheet, nodes: dict[str, Node], stored: dict[str, Node]
) -> list[Problem]:
    """Units dissolved outright (merged into none) while members are still in them."""
    rows = {
        n.code: n.row
        for n in nodes.values()
        if n.row is not None and n.dissolved and n.merged_into is None
        if n.code in stored and not stored[n.code].dissolved
    }
    if not rows:
        return []
    held = session.execute(
        select(Unit.code, func.count())
        .join(Member, Member.unit_id == Unit.id)
        .where(Unit.code.in_(list(rows)))
        .group_by(Unit.code)
    ).all()
    return [
        sheet.problem(
            rows[code],
            "status",
            f"'{code}' still holds {count} member(s): move them first, or merge it into a unit",
        )
        for code, count in sorted(held, key=lambda found: rows[found[0]] or 0)
    ]


def out_of_order(session: Session, sheet: Sheet, changed: list[Changed]) -> list[Problem]:
    """The changed rows dated before their unit's last kept change: a unit's dated changes stay
    in order, so the tree on any day is read from them."""
    by_code = {c.node.code: c for c in changed}
    query = (
        select(Unit.code, func.max(UnitChange.changed_on))
        .join(UnitChange, UnitChange.unit_id == Unit.id)
        .group_by(Unit.code)
    )
    last: dict[str, date] = {}
    for statement in in_lists(query, Unit.code, by_code):
        last.update(session.execute(statement).all())
    problems = []
    for code, day in sorted(last.items(), key=lambda kept: by_code[kept[0]].node.row or 0):
        change = by_code[code]
        if change.day < day:
            message = f"{change.day:%d/%m/%Y} is before the unit's last change, on {day:%d/%m/%Y}"
            problems.append(sheet.problem(change.node.row, "since", message))
    return problems
