"""Run bookkeeping: a run is a reconcile at a date; it may not go back in time, and what it did
is kept for the operator. A run recorded as started but never finished (killed, crashed) is
finished by the next run of its campaign, which re-runs its date first."""

import datetime as dt
from typing import Any

from pydantic import BaseModel, computed_field
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from models.audit import AuditEvent
from models.campaigns import Campaign, get_campaign
from models.errors import OutOfScope
from models.runs import Run
from states.audit_chain import bind_chains, now_utc
from states.campaign import CAMPAIGN, CampaignState
from states.engine import FireContext, fire
from states.obligation import DONE


def check_run(session: Session, code: str, as_of: dt.date) -> Campaign:
    """Refuse a run that would go back in time, or of a closed campaign past the date it
    closed at (run again at that date, it changes nothing and announces what a killed run left
    unannounced)."""
    campaign = get_campaign(session, code)
    latest = session.scalar(select(func.max(Run.as_of)).where(Run.campaign_id == campaign.id))
    if latest is not None and as_of < latest:
        raise OutOfScope(
            f"campaign {code} has already run as of {latest:%d/%m/%Y}; a run as of "
            f"{as_of:%d/%m/%Y} would go back in time (use --as-of {latest} or later)"
        )
    if campaign.state == CampaignState.closed and as_of != latest:
        raise OutOfScope(f"campaign {code} is closed; nothing more to run")
    return campaign


def begin_run(
    session: Session, code: str, as_of: dt.date, actor: str, flow_run_id: str | None = None
) -> tuple[int, int]:
    """Record a run's start (refused as `check_run` says). Returns (run id, audit seq)."""
    campaign = check_run(session, code, as_of)
    run = Run(
        campaign_id=campaign.id,
        as_of=as_of,
        actor=actor,
        started_at=now_utc(),
        transitions=0,
        summary={},
        flow_run_id=flow_run_id,
    )
    session.add(run)
    session.flush()
    return run.id, audit_seq(session)


class UnfinishedRun(BaseModel):
    """A run recorded as started that never finished: its work is redone at its date."""

    id: int
    as_of: dt.date
    actor: str
    flow_run_id: str | None


def unfinished_runs(session: Session, code: str) -> list[UnfinishedRun]:
    """The campaign's runs that started and never finished, oldest date first."""
    campaign = get_campaign(session, code)
    rows = session.scalars(
        select(Run)
        .where(Run.campaign_id == campaign.id, Run.finished_at.is_(None))
        .order_by(Run.as_of, Run.id)
    )
    return [UnfinishedRun.model_validate(row, from_attributes=True) for row in rows]


def audit_seq(session: Session) -> int:
    """The audit trail's last sequence number, of any chain: every event appended after this
    is numbered above it."""
    return int(session.scalar(select(func.max(AuditEvent.seq))) or 0)


def advance_campaign(session: Session, campaign: Campaign, ctx: FireContext) -> None:
    """Move the campaign through its own lifecycle as the date requires."""
    if campaign.state == CampaignState.registered and ctx.as_of >= campaign.period_start:
        fire(session, CAMPAIGN, campaign.id, "activate", ctx=ctx)
        session.refresh(campaign)
    if campaign.state == CampaignState.active and ctx.as_of > campaign.period_end:
        fire(session, CAMPAIGN, campaign.id, "enter_reporting", ctx=ctx)
        session.refresh(campaign)


def close_when_synthesised(session: Session, campaign: Campaign, ctx: FireContext) -> None:
    """Close the campaign once the committee's own synthesis report is in."""
    from models.obligations import Obligation, ObligationKind

    synthesis = select(Obligation.state).where(
        Obligation.campaign_id == campaign.id,
        Obligation.kind == ObligationKind.report_upward,
        Obligation.unit_id == campaign.owner_id,
    )
    closable = (CampaignState.active, CampaignState.reporting)
    if campaign.state in closable and session.scalar(synthesis) in DONE:
        fire(session, CAMPAIGN, campaign.id, "close", ctx=ctx)
        session.refresh(campaign)


def finish_run(
    session: Session, run_id: int, campaign: Campaign, first_seq: int, summary: dict[str, Any]
) -> int:
    """Close the run's record and move the campaign's last run date (never back); returns the
    transitions of this attempt (a resumed run adds them to what its first attempt did). When
    the campaign's work has chains of its own, a checkpoint in the main chain binds their heads
    (`states.audit_chain.bind_chains`): none for a campaign with the main chain alone, none
    when the heads are those the last checkpoint bound."""
    transitions = int(
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.seq > first_seq)
        )
        or 0
    )
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(finished_at=now_utc(), transitions=Run.transitions + transitions, summary=summary)
    )
    run_date, actor = session.execute(select(Run.as_of, Run.actor).where(Run.id == run_id)).one()
    bind_chains(session, campaign.id, run_date, actor, since=first_seq)
    session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign.id,
            or_(Campaign.last_run_on.is_(None), Campaign.last_run_on < run_date),
        )
        .values(last_run_on=run_date)
    )
    return transitions


class RunView(BaseModel):
    """A run as `campaign runs` lists it."""

    id: int
    as_of: dt.date
    actor: str
    started_at: str
    finished_at: str | None
    transitions: int
    flow_run_id: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unfinished(self) -> bool:
        """Started and never finished: killed or crashed (the next run finishes its work)."""
        return self.finished_at is None


def list_runs(session: Session, code: str) -> list[RunView]:
    """Every run of the campaign, in the order they started."""
    campaign = get_campaign(session, code)
    rows = session.scalars(select(Run).where(Run.campaign_id == campaign.id).order_by(Run.id))
    return [RunView.model_validate(row, from_attributes=True) for row in rows]
