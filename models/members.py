"""The roster: the `member` table and the dated changes of a member (imported by
`campaign.intake.member_roster`)."""

from datetime import date
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, func, select
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


class MemberChange(Base):
    """A dated change of a member's unit, status or leader flag, kept when a newer roster
    replaces it: `changed_on` is the day it holds from (the file's `since`, else the import's
    date); `old` and `new` are unit codes, statuses, or yes/no."""

    __tablename__ = "member_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    changed_on: Mapped[date] = mapped_column(Date)
    field: Mapped[str] = mapped_column(String(16))
    old: Mapped[str] = mapped_column(String(64))
    new: Mapped[str] = mapped_column(String(64))


def count_by_status(session: Session) -> dict[str, int]:
    """How many members of each status are stored."""
    query = select(Member.status, func.count()).group_by(Member.status)
    return dict(session.execute(query).all())


def count_leaders(session: Session) -> int:
    """How many members hold a leading or managing post."""
    return session.scalar(select(func.count()).where(Member.leader)) or 0
