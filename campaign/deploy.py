"""Deploy plan: create every obligation and self-assessment the plan sets, set-based and
idempotent (each row has a deterministic key; a re-run inserts only what is missing)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from models.campaigns import Campaign
from models.casework import Assessment
from models.db import analyze
from models.members import Member, MemberStatus, joined_after
from models.obligations import Obligation, ObligationKind
from models.plans import Cadence, PlanFile, SessionsPer
from models.units import Unit, UnitKind
from states.assessment import AssessmentState
from states.obligation import ObligationState


@dataclass(frozen=True)
class Window:
    """A stretch of the period an obligation covers: the whole period, or one quarter."""

    label: str
    start: dt.date
    end: dt.date


def session_windows(plan: PlanFile) -> list[Window]:
    """The windows in which sessions are owed: the period, or each quarter it touches."""
    if plan.sessions.cadence is Cadence.period:
        return [Window("", plan.period.start, plan.period.end)]
    windows = []
    year, quarter = plan.period.start.year, (plan.period.start.month - 1) // 3
    while dt.date(year, quarter * 3 + 1, 1) <= plan.period.end:
        first = dt.date(year, quarter * 3 + 1, 1)
        last = (dt.date(year + (quarter == 3), (quarter + 1) % 4 * 3 + 1, 1)) - dt.timedelta(1)
        windows.append(
            Window(
                f"{year}-Q{quarter + 1}", max(first, plan.period.start), min(last, plan.period.end)
            )
        )
        year, quarter = year + (quarter == 3), (quarter + 1) % 4
    return windows


def _in_scope(owner_path: str) -> ColumnElement[bool]:
    return Unit.path.startswith(owner_path, autoescape=True)


def _unit_obligations(
    campaign: Campaign,
    owner_path: str,
    kind: ObligationKind,
    units: ColumnElement[bool] | Any,
    due: dt.date,
    window: str = "",
) -> Select[*tuple[Any, ...]]:
    key = literal(f"{kind}:") + Unit.code + literal(f":{window}" if window else "")
    query = select(
        literal(campaign.id),
        literal(kind),
        Unit.id,
        literal(window),
        key.label(KEY),
        literal(campaign.plan_file.escalation.due_on(due)),  # on a day off: moved if so planned
        literal(ObligationState.open),
        literal(0),
    ).where(_in_scope(owner_path), units)
    # In a fixed order, as the members' below: the same organisation gets the same ids on
    # SQLite and PostgreSQL, whatever plan either database chooses.
    return query.order_by(Unit.id)


COLUMNS = ["campaign_id", "kind", "unit_id", "window", "key", "due", "state", "escalation_level"]
KEY = "obligation_key"  # the label of the key's column in the selects, to find it by


def _every_unit_obligation(campaign: Campaign, owner: Unit) -> list[Select[*tuple[Any, ...]]]:
    """The selects of every unit obligation the plan sets: one per kind, due date and window."""
    plan = campaign.plan_file
    path, grassroots = owner.path, Unit.kind == UnitKind.grassroots.value
    selects = [
        _unit_obligations(
            campaign, path, ObligationKind.issue_plan, grassroots, plan.implementation_plan_due
        ),
        _unit_obligations(
            campaign, path, ObligationKind.report_upward, grassroots, plan.reports.grassroots_due
        ),
        _unit_obligations(
            campaign,
            path,
            ObligationKind.report_upward,
            Unit.id == owner.id,
            plan.reports.synthesis_due,
        ),
    ]
    holders = Unit.holds_members if plan.sessions.per is SessionsPer.branch else grassroots
    for window in session_windows(plan):
        selects.append(
            _unit_obligations(
                campaign, path, ObligationKind.hold_session, holders, window.end, window.label
            )
        )
    return selects


def _member_obligations(campaign: Campaign, owner_path: str) -> Select[*tuple[Any, ...]]:
    plan = campaign.plan_file
    return (
        select(
            literal(campaign.id),
            literal(ObligationKind.self_assess),
            Member.unit_id,
            Member.id,
            literal(""),
            (literal(f"{ObligationKind.self_assess}:") + Member.code).label(KEY),
            literal(plan.escalation.due_on(plan.self_assessment_due or plan.period.end)),
            literal(ObligationState.open),
            literal(0),
        )
        .join(Unit, Unit.id == Member.unit_id)
        .where(_in_scope(owner_path), Member.status == MemberStatus.active.value)
        .where(~_joined_too_late(plan))
        .order_by(Member.id)
    )


def _joined_too_late(plan: PlanFile) -> ColumnElement[bool]:
    """A member admitted after the plan's cut-off for new members (`new_members_until`): the
    plan sets them no duty."""
    return false() if plan.new_members_until is None else joined_after(plan.new_members_until)


def _not_yet_stored(query: Select[*tuple[Any, ...]], campaign_id: int) -> Select[*tuple[Any, ...]]:
    """Only the rows whose key is not yet stored: what makes deploying again harmless."""
    key = query.selected_columns[KEY]
    taken = exists().where(Obligation.campaign_id == campaign_id, Obligation.key == key)
    return query.where(~taken)


def deploy_obligations(session: Session, campaign: Campaign) -> tuple[int, int]:
    """Insert every obligation of the plan that is not there yet; returns how many, and the
    highest obligation id before (the ones created are above it)."""
    owner = session.get_one(Unit, campaign.owner_id)
    before = _count(session, campaign.id)
    last_id = session.scalar(select(func.max(Obligation.id))) or 0
    for query in _every_unit_obligation(campaign, owner):
        session.execute(
            insert(Obligation).from_select(COLUMNS, _not_yet_stored(query, campaign.id))
        )
    member_columns = [*COLUMNS[:3], "member_id", *COLUMNS[3:]]
    # the units' obligations just written are counted, so that the members' are checked against
    # them through the key's index, not a loop over every row (PostgreSQL)
    analyze(session, "obligation")
    session.execute(
        insert(Obligation).from_select(
            member_columns, _not_yet_stored(_member_obligations(campaign, owner.path), campaign.id)
        )
    )
    return _count(session, campaign.id) - before, last_id


def _count(session: Session, campaign_id: int) -> int:
    query = select(func.count()).where(Obligation.campaign_id == campaign_id)
    return session.scalar(query) or 0


def deploy_assessments(session: Session, campaign: Campaign) -> int:
    """A self-assessment for every member in scope: pending, or excluded when outside targets."""
    owner_path = session.scalar(select(Unit.path).where(Unit.id == campaign.owner_id)) or "/"
    active = and_(Member.status == MemberStatus.active.value, ~_joined_too_late(campaign.plan_file))
    query = (
        select(
            literal(campaign.id),
            Member.id,
            Member.unit_id,
            Member.leader,
            case(
                (active, literal(AssessmentState.pending)), else_=literal(AssessmentState.excluded)
            ),
        )
        .join(Unit, Unit.id == Member.unit_id)
        .where(
            _in_scope(owner_path),
            ~exists().where(
                and_(Assessment.campaign_id == campaign.id, Assessment.member_id == Member.id)
            ),
        )
        .order_by(Member.id)
    )
    result = session.execute(
        insert(Assessment).from_select(
            ["campaign_id", "member_id", "unit_id", "leader", "state"], query
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
