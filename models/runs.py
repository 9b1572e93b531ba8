"""The `run` table: one row per campaign run, what it did and whether it finished."""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Run(Base):
    """A run of a campaign at a logical date: when it started, and when it finished (never,
    for a run killed or crashed: the next run finishes its work)."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[str] = mapped_column(String(32))
    finished_at: Mapped[str | None] = mapped_column(String(32))
    transitions: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The Prefect flow run that ran it (NULL when run outside Prefect, e.g. by the bench).
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
