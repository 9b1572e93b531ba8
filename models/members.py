"""The roster: the `member` table and the dated changes of a member (imported by
`campaign.intake.member_roster`)."""

from datetime import date
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKey,
    String,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class MemberStatus(StrEnum):
    """A member's standing for the campaign's targets."""

    active = "active"
    exempt = "exempt"  # miễn sinh hoạt đảng
    transferred_out = "transferred_out"  # chuyển sinh hoạt đảng tạm thời ra ngoài
    died = "died"  # từ trần
    expelled = "expelled"  # khai trừ, xóa tên: removed from the party


# A member of these statuses has left the organisation: their open obligations are waived.
LEFT = (MemberStatus.transferred_out, MemberStatus.died, MemberStatus.expelled)


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


# The fields a member's dated change is of: `joined` is a member admitted after the roster's
# first import (old '', new the unit joined), the others a change of unit, status or leader flag.
UNIT, STATUS, LEADER, JOINED = "unit", "status", "leader", "joined"


class MemberChange(Base):
    """A dated change of a member's unit, status or leader flag, or their joining, kept when a
    newer roster replaces it: `changed_on` is the day it holds from (the file's `since`, else the
    import's date); `old` and `new` are unit codes, statuses, or yes/no (`JOINED`: '' and the
    unit joined)."""

    __tablename__ = "member_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    changed_on: Mapped[date] = mapped_column(Date)
    field: Mapped[str] = mapped_column(String(16))
    old: Mapped[str] = mapped_column(String(64))
    new: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64), default="")  # who imported it


def count_by_status(session: Session) -> dict[str, int]:
    """How many members of each status are stored."""
    query = select(Member.status, func.count()).group_by(Member.status)
    return dict(session.execute(query).all())


def count_leaders(session: Session) -> int:
    """How many members hold a leading or managing post."""
    return session.scalar(select(func.count()).where(Member.leader)) or 0


def joined_after(day: date) -> ColumnElement[bool]:
    """Whether the member (a row of `member`) joined after `day`: their kept joining is later."""
    return exists().where(
        MemberChange.member_id == Member.id,
        MemberChange.field == JOINED,
        MemberChange.changed_on > day,
    )


def roster_on(day: date) -> Subquery:
    """The roster as it stood on `day`, for the members with a dated change (any other stands
    as stored): `member_id`, `unit` (a code), `status`, `leader` ('yes'/'no') and `absent` (1
    when they joined after `day`), each None where no change says otherwise than the stored row.

    Set-based, one scan of `member_change`: a field's value on `day` is the new value of its
    latest change by then, else the old value of its first change after (what it was before)."""
    held = MemberChange.changed_on <= day
    side = case((held, 1), else_=0)
    ranked = select(
        MemberChange.member_id,
        MemberChange.field,
        side.label("held"),
        case((held, MemberChange.new), else_=MemberChange.old).label("value"),
        func.row_number()
        .over(
            partition_by=(MemberChange.member_id, MemberChange.field, side),
            order_by=(MemberChange.changed_on.desc(), MemberChange.id.desc()),
        )
        .label("last"),
        func.row_number()
        .over(
            partition_by=(MemberChange.member_id, MemberChange.field, side),
            order_by=(MemberChange.changed_on, MemberChange.id),
        )
        .label("first"),
    ).subquery()
    # the latest change by `day` (held, last == 1), or the first after it (not held, first == 1)
    chosen = ((ranked.c.held == 1) & (ranked.c.last == 1)) | (
        (ranked.c.held == 0) & (ranked.c.first == 1)
    )
    columns = [_pick(ranked, field).label(field) for field in (UNIT, STATUS, LEADER)]
    absent = func.max(
        case((and_(ranked.c.field == JOINED, ranked.c.held == 0), literal(1)), else_=None)
    )
    return (
        select(ranked.c.member_id, *columns, absent.label("absent"))
        .where(chosen)
        .group_by(ranked.c.member_id)
        .subquery("roster_on")
    )


def _pick(ranked: Subquery, field: str) -> ColumnElement[str | None]:
    """A field's value on the day among a member's chosen changes: the held one's, else the
    later one's old value (held sorts first)."""
    return func.coalesce(
        func.max(case((and_(ranked.c.field == field, ranked.c.held == 1), ranked.c.value))),
        func.max(case((and_(ranked.c.field == field, ranked.c.held == 0), ranked.c.value))),
    )
