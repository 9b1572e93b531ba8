"""The `campaign` table: a registered plan, its owner and where its runs stand."""

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.errors import NotFound
from models.plans import PlanFile


class Campaign(Base):
    """A registered campaign: its plan and where its lifecycle stands."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    owner_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="registered")
    last_run_on: Mapped[date | None] = mapped_column(Date)
    # The roster revision the plan was last deployed at (None: never deployed).
    deployed_revision: Mapped[int | None]

    @property
    def plan_file(self) -> PlanFile:
        """The registered plan, validated."""
        return PlanFile.model_validate(self.plan)


def get_campaign(session: Session, code: str) -> Campaign:
    """The campaign registered under `code` (looked up once per session: a console page asks for
    it from several places, and a second query would return the same object from the session's
    identity map anyway)."""
    known: dict[str, Campaign] = session.info.setdefault("campaigns", {})
    campaign = known.get(code)
    if campaign is not None and campaign in session:
        return campaign
    campaign = session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise NotFound(f"no campaign '{code}'; register its plan with `campaign plan register`")
    known[code] = campaign
    return campaign
