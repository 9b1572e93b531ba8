"""The members import's staging table, and the staged rows that change a stored member: what
both its checks (`member_roster`) and its apply (`roster_apply`) read."""

from typing import Any

from sqlalchemy import Boolean, Date, Integer, Select, Text, and_, exists, or_, select
from sqlalchemy import Column as Field

from models.members import Member
from models.staging import stage_table
from models.units import Unit

# Every row of the file, as read: its number, code and unit cells as written (what duplicates
# and unknown units are found by), whether it is valid, and a valid row's values, `day` the one
# its change holds from (its `since`, else the import's date) and `dated` whether it gave one.
MEMBER_STAGE = stage_table(
    "member_stage",
    Field("row_no", Integer, nullable=False),
    Field("code", Text, nullable=False),
    Field("unit", Text, nullable=False),
    Field("valid", Boolean, nullable=False),
    Field("full_name", Text),
    Field("leader", Boolean),
    Field("position", Text),
    Field("status", Text),
    Field("day", Date),
    Field("dated", Boolean),
    rowid="row_no",
)


_S = MEMBER_STAGE.c


def changed_rows(*, first_of_code: bool = False) -> Select[Any]:
    """The staged rows that change a stored member (a valid row naming a unit that holds
    members, and differing in a field), with the member and the new unit. With `first_of_code`
    only the first row of each code counts (a file repeating codes is refused, but its first
    rows are still checked as changes)."""
    member, unit = Member.__table__.c, Unit.__table__.c
    query = (
        select(_S.row_no, _S.day)
        .join(Member, member.code == _S.code)
        .join(Unit, and_(unit.code == _S.unit, unit.holds_members.is_(True)))
        .where(
            _S.valid.is_(True),
            or_(
                member.full_name != _S.full_name,
                member.unit_id != unit.id,
                member.leader != _S.leader,
                member.position != _S.position,
                member.status != _S.status,
            ),
        )
    )
    if first_of_code:
        earlier = MEMBER_STAGE.alias("earlier")
        query = query.where(
            ~exists().where(earlier.c.code == _S.code, earlier.c.row_no < _S.row_no)
        )
    return query
