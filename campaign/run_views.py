"""A campaign's runs as the console shows them: one run's record, by its id or by the Prefect
flow run that ran it, and the notices issued at its date."""

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.run_record import RunView
from models.campaigns import Campaign
from models.documents import Document
from models.runs import Run


class RunNotice(BaseModel):
    """A notice issued at a run's date: to which unit, which step and level, and its title."""

    unit: str
    unit_name: str
    step: str
    level: int
    title: str


class RunDetail(BaseModel):
    """A run's record, what it did, and the notices issued at its date."""

    run: RunView
    summary: dict[str, Any]
    notices: list[RunNotice]


def run_detail(
    session: Session, campaign: Campaign, *, run_id: int | None = None, flow_run: str = ""
) -> RunDetail | None:
    """The run `run_id` of the campaign (or the one Prefect flow run `flow_run` ran), if any."""
    query = select(Run).where(Run.campaign_id == campaign.id)
    if run_id is not None:
        query = query.where(Run.id == run_id)
    else:
        query = query.where(Run.flow_run_id == flow_run)
    run = session.scalars(query.order_by(Run.id.desc()).limit(1)).first()
    if run is None:
        return None
    view = RunView.model_validate(run, from_attributes=True)
    notices = notices_on(session, campaign, run.as_of) if run.finished_at else []
    return RunDetail(run=view, summary=dict(run.summary or {}), notices=notices)


def notices_on(session: Session, campaign: Campaign, day: dt.date) -> list[RunNotice]:
    """The campaign's notices issued at `day`, in the order of their keys."""
    rows = session.execute(
        select(Document.title, Document.context)
        .where(
            Document.campaign_id == campaign.id,
            Document.kind.like("notice%"),
            Document.issued_on == day,
        )
        .order_by(Document.key)
    )
    return [
        RunNotice(
            unit=context["unit"]["code"],
            unit_name=context["unit"]["name"],
            step=context["step"],
            level=context["level"],
            title=title,
        )
        for title, context in rows
    ]
