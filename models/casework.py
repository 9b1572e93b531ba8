"""A member's self-assessment, screening cases and commendations of a campaign."""

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Assessment(Base):
    """A member's self-assessment (tự soi rọi, tự nhận xét) in a campaign."""

    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", name="uq_assessment_campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    leader: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    since: Mapped[dt.date | None] = mapped_column(Date)


class ScreeningCase(Base):
    """The screening of a weak or degraded member (rà soát → … → sàng lọc)."""

    __tablename__ = "screening_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="reviewing")
    since: Mapped[dt.date | None] = mapped_column(Date)


class Commendation(Base):
    """A nomination of an exemplary member or organisation (biểu dương, khen thưởng)."""

    __tablename__ = "commendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="nominated")
    since: Mapped[dt.date | None] = mapped_column(Date)
