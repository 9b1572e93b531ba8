"""Documents the engine issued (notices, plans, reports): kept as their view model, so any
format can be rendered again from the record, and a re-run never issues a document twice."""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Document(Base):
    """A document issued by a run: one per deterministic key (unit, step, date)."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("campaign_id", "key", name="uq_document_campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(400))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    markdown: Mapped[str] = mapped_column(Text)
    # The outbox of announcements: when a notice's Prefect event was delivered (NULL: not yet;
    # the next run announces it, whatever its date).
    announced_at: Mapped[str | None] = mapped_column(String(32))
    # The id of the Prefect event announcing it, drawn when it is stored: sent again (a run
    # killed before it recorded the announcement), it is the same event, which Prefect keeps
    # once. NULL for documents that are not notices, and notices from before the outbox.
    event_id: Mapped[str | None] = mapped_column(String(36))


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
