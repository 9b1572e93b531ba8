"""Run bookkeeping: a run is a reconcile at a date; it may not go back in time, and what it did
is kept for the operator."""

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.audit import AuditHead
from models.documents import Run
from models.errors import OutOfScope
from models.plans import Campaign, get_campaign
from states.audit import now_utc
from states.campaign import CAMPAIGN
from states.engine import FireContext, fire


def check_run(session: Session, code: str, as_of: dt.date) -> Campaign:
    """Refuse a run that would go back in time, or of a closed campaign."""
    campaign = get_campaign(session, code)
    latest = session.scalar(select(func.max(Run.as_of)).where(Run.campaign_id == campaign.id))
    if latest is not None and as_of < latest:
        raise OutOfScope(
            f"campaign {code} has already run as of {latest:%d/%m/%Y}; a run as of "
            f"{as_of:%d/%m/%Y} would go back in time (use --as-of {latest} or later)"
        )
    if campaign.state == "closed":
        raise OutOfScope(f"campaign {code} is closed; nothing more to run")
    return campaign


def begin_run(session: Session, code: str, as_of: dt.date, actor: str) -> tuple[int, int]:
    """Record a run's start (refused as `check_run` says). Returns (run id, audit seq)."""
    campaign = check_run(session, code, as_of)
    run = Run(
        campaign_id=campaign.id,
        as_of=as_of,
        actor=actor,
        started_at=now_utc(),
        transitions=0,
        summary={},
    )
    session.add(run)
    session.flush()
    return run.id, audit_seq(session)


def audit_seq(session: Session) -> int:
    """The audit chain's last sequence number."""
    return int(session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0)


def advance_campaign(session: Session, campaign: Campaign, ctx: FireContext) -> None:
    """Move the campaign through its own lifecycle as the date requires."""
    if campaign.state == "registered" and ctx.as_of >= campaign.period_start:
        fire(session, CAMPAIGN, campaign.id, "activate", ctx=ctx)
        session.refresh(campaign)
    if campaign.state == "active" and ctx.as_of > campaign.period_end:
        fire(session, CAMPAIGN, campaign.id, "enter_reporting", ctx=ctx)
        session.refresh(campaign)


def close_when_synthesised(session: Session, campaign: Campaign, ctx: FireContext) -> None:
    """Close the campaign once the committee's own synthesis report is in."""
    from models.obligations import Obligation

    synthesis = select(Obligation.state).where(
        Obligation.campaign_id == campaign.id,
        Obligation.kind == "report_upward",
        Obligation.unit_id == campaign.owner_id,
    )
    if campaign.state in ("active", "reporting") and session.scalar(synthesis) in (
        "met",
        "met_late",
    ):
        fire(session, CAMPAIGN, campaign.id, "close", ctx=ctx)
        session.refresh(campaign)


def finish_run(
    session: Session, run_id: int, campaign: Campaign, first_seq: int, summary: dict[str, Any]
) -> int:
    """Close the run's record and the campaign's last run date; returns its transitions."""
    transitions = audit_seq(session) - first_seq
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(finished_at=now_utc(), transitions=transitions, summary=summary)
    )
    run_date = session.scalar(select(Run.as_of).where(Run.id == run_id))
    session.execute(update(Campaign).where(Campaign.id == campaign.id).values(last_run_on=run_date))
    return transitions
