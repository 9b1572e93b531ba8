"""Registering a plan file as a campaign (or amending the one registered), audited."""

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.calendar import today
from models.campaigns import Campaign
from models.errors import InputError
from models.plans import PlanFile, read_plan
from models.units import Unit, UnitKind
from models.yamlfile import KeyProblem
from states.actors import SYSTEM_ACTOR
from states.roster import (
    ABSENT,
    CAMPAIGN,
    PLAN_CHANGED,
    PLAN_REGISTERED,
    Change,
    diff_of,
    record_changes,
)


def register_plan(
    path: Path, *, session: Session, actor: str = SYSTEM_ACTOR
) -> tuple[Campaign, bool]:
    """Register the plan in `path`; returns the campaign and whether it is new.

    Registering the same plan again changes nothing; a changed plan is accepted only before the
    campaign's first run. A new plan and a changed one are audit events by `actor`."""
    plan = read_plan(path)
    owner = session.scalar(select(Unit).where(Unit.code == plan.owner))
    committees = (UnitKind.central.value, UnitKind.province.value, UnitKind.district.value)
    if owner is None or owner.kind not in committees:
        what = (
            "unknown unit"
            if owner is None
            else f"a {owner.kind}, not a district or province (or the centre)"
        )
        raise InputError([KeyProblem(path.name, None, "owner", f"'{plan.owner}' is {what}")])
    data = plan.model_dump(mode="json")
    campaign = session.scalar(select(Campaign).where(Campaign.code == plan.code))
    if campaign is not None:
        if campaign.plan != data and campaign.last_run_on is not None:
            raise InputError(
                [
                    KeyProblem(
                        path.name,
                        None,
                        "code",
                        f"campaign '{plan.code}' has already run; its plan can no longer change",
                    )
                ]
            )
        changed = diff_of(campaign.plan, data)
        _apply(campaign, plan, owner, data)
        if changed:
            _audit(session, campaign, PLAN_CHANGED, campaign.state, changed, actor=actor)
        return campaign, False
    campaign = Campaign(code=plan.code)
    _apply(campaign, plan, owner, data)
    session.add(campaign)
    session.flush()
    registered = f"registered from {path.name}"
    _audit(session, campaign, PLAN_REGISTERED, ABSENT, {}, actor=actor, reason=registered)
    return campaign, True


def _audit(
    session: Session,
    campaign: Campaign,
    trigger: str,
    before: str,
    diff: dict[str, tuple[Any, Any]],
    *,
    actor: str,
    reason: str | None = None,
) -> None:
    """The plan's event: its campaign's, at the owner, from `before` to the campaign's state."""
    session.flush()
    change = Change(
        campaign.id, campaign.id, campaign.owner_id, None, before, campaign.state, diff, reason
    )
    record_changes(session, CAMPAIGN, trigger, [change], at=today(), actor=actor)


def _apply(campaign: Campaign, plan: PlanFile, owner: Unit, data: dict[str, Any]) -> None:
    campaign.title = plan.title
    campaign.owner_id = owner.id
    campaign.period_start = plan.period.start
    campaign.period_end = plan.period.end
    campaign.plan = data
