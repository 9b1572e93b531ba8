"""Obligations: every duty with a deadline (issue plan, hold sessions, self-assess, report
upward), each with its own lifecycle (`states/obligation.py`)."""

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ObligationKind(StrEnum):
    """Every kind of duty a plan sets (SPEC §5)."""

    issue_plan = "issue_plan"  # a grassroots organisation issues its implementation plan
    hold_session = "hold_session"  # a unit holds its thematic sessions, per window
    self_assess = "self_assess"  # a member presents a self-assessment
    report_upward = "report_upward"  # a unit reports its results to the level above


class TargetName(StrEnum):
    """The targets a campaign's progress is measured against, counted over its obligations."""

    members_self_assessed = "members_self_assessed"  # self_assess met, of every member
    leaders_self_assessed = "leaders_self_assessed"  # the same, of members who lead
    branches_with_sessions = "branches_with_sessions"  # hold_session met


class Obligation(Base):
    """A duty of a unit or member, due on a date; `key` makes creating it idempotent."""

    __tablename__ = "obligation"
    __table_args__ = (
        UniqueConstraint("campaign_id", "key", name="uq_obligation_campaign_id"),
        # The sweep of a chunk of districts seeks its units' obligations of each state.
        Index("ix_obligation_campaign_state_unit", "campaign_id", "state", "unit_id"),
        Index("ix_obligation_campaign_unit", "campaign_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    window: Mapped[str] = mapped_column(String(16), default="")
    key: Mapped[str] = mapped_column(String(160))
    due: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="open")
    escalation_level: Mapped[int] = mapped_column(default=0)
    since: Mapped[dt.date | None] = mapped_column(Date)
    # Date of the fact that fulfils the duty, staged by a run before the machine judges it.
    evidence_on: Mapped[dt.date | None] = mapped_column(Date)
