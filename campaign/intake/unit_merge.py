"""A unit merged into another (sáp nhập): its members move to the survivor, each as a dated
member change (`member_change`) audited as a `roster_update` by who imported the tree, so the
next run of each campaign makes their open obligations follow them (`campaign.roster_follow`).

Reads only the members of the merged units."""

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from models.errors import Problem
from models.files import Sheet
from models.members import Member, MemberChange
from models.units import Unit
from states.roster import MEMBER, ROSTER_UPDATE, Change, record_changes


class Merger(NamedTuple):
    """A unit merged into `survivor` from `day`, as the file's row `row` says."""

    unit: str
    survivor: str
    day: date
    row: int


def out_of_order_members(
    session: Session, sheet: Sheet, mergers: Sequence[Merger]
) -> list[Problem]:
    """The merged rows dated before the last kept change of a member they would move: a
    member's dated changes stay in order."""
    if not mergers:
        return []
    by_unit = {m.unit: m for m in mergers}
    query = (
        select(Unit.code, Member.code, func.max(MemberChange.changed_on))
        .join(Member, Member.unit_id == Unit.id)
        .join(MemberChange, MemberChange.member_id == Member.id)
        .where(Unit.code.in_(list(by_unit)))
        .group_by(Unit.code, Member.code)
        .order_by(Unit.code, Member.code)
    )
    problems = []
    for unit, member, day in session.execute(query):
        merger = by_unit[unit]
        if merger.day < day:
            message = (
                f"{merger.day:%d/%m/%Y} is before the last change of member {member}, "
                f"on {day:%d/%m/%Y}"
            )
            problems.append(sheet.problem(merger.row, "since", message))
    return sorted(problems, key=lambda p: p.row or 0)


def merge_members(session: Session, mergers: Sequence[Merger], *, actor: str) -> int:
    """Move every member of each merged unit to its survivor from the merger's day: kept,
    stored and audited; returns how many moved."""
    if not mergers:
        return 0
    codes = {m.unit for m in mergers} | {m.survivor for m in mergers}
    ids = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes))).all())
    moved = 0
    for merger in sorted(mergers, key=lambda m: (m.day, m.unit)):
        was, now = ids[merger.unit], ids[merger.survivor]
        members = session.execute(
            select(Member.id, Member.status).where(Member.unit_id == was).order_by(Member.id)
        ).all()
        if not members:
            continue
        session.execute(
            insert(MemberChange),
            [
                {
                    "member_id": member_id,
                    "changed_on": merger.day,
                    "field": "unit",
                    "old": merger.unit,
                    "new": merger.survivor,
                    "actor": actor,
                }
                for member_id, _ in members
            ],
        )
        session.execute(update(Member).where(Member.unit_id == was).values(unit_id=now))
        why = f"unit {merger.unit} → {merger.survivor}: {merger.unit} merged into it"
        diff = {"unit": (merger.unit, merger.survivor)}
        changes = [Change(m, None, now, m, status, status, diff, why) for m, status in members]
        record_changes(session, MEMBER, ROSTER_UPDATE, changes, at=merger.day, actor=actor)
        moved += len(members)
    return moved
