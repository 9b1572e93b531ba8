"""A member's history as a reader asks for it: their dated changes of unit, status and leader
flag, and their joining (`member_change`), each with the day it holds from and who made it."""

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.roster_history import ChangeView, dated_changes
from models.errors import NotFound
from models.members import Member, MemberChange
from models.units import Unit


class MemberHistoryView(BaseModel):
    """A member as they stand and their changes in the order they hold."""

    member: str
    name: str
    unit: str
    status: str
    leader: bool
    changes: list[ChangeView]


def member_history(session: Session, code: str) -> MemberHistoryView:
    """Member `code`'s changes of unit, status and leader flag, oldest first."""
    found = session.execute(
        select(Member.id, Member.full_name, Member.status, Member.leader, Unit.code)
        .join(Unit, Unit.id == Member.unit_id)
        .where(Member.code == code)
    ).one_or_none()
    if found is None:
        raise NotFound(f"no member '{code}'")
    member_id, name, status, leader, unit = found
    changes = [
        ChangeView(on=on, field=field, from_=old, to=new, actor=actor)
        for on, field, old, new, actor in dated_changes(session, MemberChange, member_id)
    ]
    return MemberHistoryView(
        member=code, name=name, unit=unit, status=status, leader=leader, changes=changes
    )
