"""Applying recorded facts at a run's date: lifecycle facts move self-assessments, screening
cases and commendations (set-based, in rounds: each entity's first unapplied fact, then its
second …); the other facts become the evidence that obligations are judged by."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from flows.deploy import session_windows
from flows.facts import fact_transition
from models.facts import Fact, FactKind
from models.obligations import Obligation
from models.plans import Campaign, SessionsPer
from models.units import Unit
from states.audit import append_events, canonical_payload
from states.engine import FireContext, fire_many
from states.lifecycle import Lifecycle
from states.lifecycles import OPENING

ASSESSMENT_KINDS = (
    FactKind.self_assessment_submitted,
    FactKind.self_assessment_accepted,
    FactKind.self_assessment_returned,
)
SCREENING_KINDS = (FactKind.screening_opened, FactKind.screening_step)
COMMENDATION_KINDS = (
    FactKind.exemplar_nominated,
    FactKind.exemplar_approved,
    FactKind.exemplar_rejected,
)


def _unapplied(campaign_id: int, as_of: dt.date, kinds: Iterable[str]) -> ColumnElement[bool]:
    return and_(
        Fact.campaign_id == campaign_id,
        Fact.applied_on.is_(None),
        Fact.date <= as_of,
        Fact.kind.in_(list(kinds)),
    )


def _ranked(campaign_id: int, as_of: dt.date, kinds: Iterable[str]) -> Subquery:
    order = func.row_number().over(
        partition_by=(Fact.member_id, Fact.unit_id), order_by=(Fact.date, Fact.id)
    )
    return (
        select(Fact.id, Fact.kind, Fact.note, Fact.member_id, Fact.unit_id, order.label("rn"))
        .where(_unapplied(campaign_id, as_of, kinds))
        .subquery()
    )


def _targets(
    lifecycle: Lifecycle, ranked: Subquery, rn: int, kind: str, note: str
) -> ColumnElement[bool]:
    """The entities whose `rn`-th pending fact is this one: by member, or by unit alone."""
    table = lifecycle.table
    chosen = and_(ranked.c.rn == rn, ranked.c.kind == kind, ranked.c.note == note)
    members = select(ranked.c.member_id).where(chosen, ranked.c.member_id.is_not(None))
    units = select(ranked.c.unit_id).where(chosen, ranked.c.member_id.is_(None))
    by_unit = and_(table.c.member_id.is_(None), table.c.unit_id.in_(units))
    return or_(table.c.member_id.in_(members), by_unit) if "member_id" in table.c else by_unit


def apply_lifecycle_facts(
    session: Session, campaign: Campaign, kinds: Iterable[str], ctx: FireContext
) -> int:
    """Apply the pending facts of `kinds` dated on or before the run; returns transitions."""
    kinds = list(kinds)
    ranked = _ranked(campaign.id, ctx.as_of, kinds)
    rounds = session.scalar(select(func.max(ranked.c.rn))) or 0
    moved = 0
    for rn in range(1, rounds + 1):
        groups = session.execute(
            select(ranked.c.kind, ranked.c.note)
            .where(ranked.c.rn == rn)
            .distinct()
            .order_by(ranked.c.kind, ranked.c.note)
        ).all()
        for kind, note in groups:
            moved += _apply_group(session, campaign, ranked, rn, kind, note, ctx)
    session.execute(
        update(Fact).where(_unapplied(campaign.id, ctx.as_of, kinds)).values(applied_on=ctx.as_of)
    )
    return moved


def _apply_group(
    session: Session,
    campaign: Campaign,
    ranked: Subquery,
    rn: int,
    kind: str,
    note: str,
    ctx: FireContext,
) -> int:
    found = fact_transition(kind, note)
    if found is None:
        return 0
    lifecycle, trigger = found
    scope = lifecycle.table.c.campaign_id == campaign.id
    fact_ctx = FireContext(**{**ctx.__dict__, "reason": f"fact {kind} {note}".strip()})
    if trigger is not None:
        where = and_(scope, _targets(lifecycle, ranked, rn, kind, note))
        return fire_many(session, lifecycle, trigger, ctx=fact_ctx, where=where)
    opened = _open(session, campaign, lifecycle, ranked, rn, kind, fact_ctx)
    opening = OPENING.get(lifecycle.name)
    if opening:
        where = and_(
            scope,
            lifecycle.table.c.state == lifecycle.initial,
            _targets(lifecycle, ranked, rn, kind, note),
        )
        opened += fire_many(session, lifecycle, opening, ctx=fact_ctx, where=where)
    return opened


def _open(
    session: Session,
    campaign: Campaign,
    lifecycle: Lifecycle,
    ranked: Subquery,
    rn: int,
    kind: str,
    ctx: FireContext,
) -> int:
    """Open an entity per fact (a screening case, a nomination), audited as `open`."""
    table = lifecycle.table
    last = session.scalar(select(func.max(table.c.id))) or 0
    source = (
        select(ranked.c.member_id, ranked.c.unit_id)
        .where(ranked.c.rn == rn, ranked.c.kind == kind)
        .subquery()
    )
    session.execute(
        insert(table).from_select(
            ["campaign_id", "member_id", "unit_id", "state", "since"],
            select(
                literal(campaign.id),
                source.c.member_id,
                source.c.unit_id,
                literal(lifecycle.initial),
                literal(ctx.as_of),
            ).select_from(source),
        )
    )
    rows = session.execute(
        select(table.c.id, table.c.unit_id, table.c.member_id)
        .where(table.c.id > last)
        .order_by(table.c.id)
    ).all()
    append_events(session, (_opened(lifecycle, campaign, row, ctx) for row in rows))
    return len(rows)


def _opened(lifecycle: Lifecycle, campaign: Campaign, row: Any, ctx: FireContext) -> dict[str, Any]:
    return {
        "at": ctx.as_of,
        "actor": ctx.actor,
        "entity": lifecycle.name,
        "entity_id": row.id,
        "campaign_id": campaign.id,
        "unit_id": row.unit_id,
        "member_id": row.member_id,
        "trigger": "open",
        "from_state": "",
        "to_state": lifecycle.initial,
        "reason": ctx.reason,
        "payload": canonical_payload(None),
    }


def _first_fact(
    campaign_id: int, as_of: dt.date, kind: str, *where: ColumnElement[bool], nth: int = 1
) -> Any:
    return (
        select(Fact.date)
        .where(Fact.campaign_id == campaign_id, Fact.kind == kind, Fact.date <= as_of, *where)
        .order_by(Fact.date)
        .offset(nth - 1)
        .limit(1)
        .scalar_subquery()
    )


def _stage(
    session: Session, campaign_id: int, kind: str, value: Any, *where: ColumnElement[bool]
) -> None:
    session.execute(
        update(Obligation)
        .where(
            Obligation.campaign_id == campaign_id,
            Obligation.kind == kind,
            Obligation.evidence_on.is_(None),
            *where,
        )
        .values(evidence_on=value)
        .execution_options(synchronize_session=False)
    )


def stage_unit_evidence(
    session: Session, campaign: Campaign, as_of: dt.date, kind: str, fact_kind: str
) -> None:
    """Evidence of a unit's duty (plan issued, report submitted): the first such fact."""
    value = _first_fact(campaign.id, as_of, fact_kind, Fact.unit_id == Obligation.unit_id)
    _stage(session, campaign.id, kind, value)


def stage_member_evidence(session: Session, campaign: Campaign, as_of: dt.date) -> None:
    """Evidence of a member's self-assessment: the first submission."""
    value = _first_fact(
        campaign.id,
        as_of,
        FactKind.self_assessment_submitted,
        Fact.member_id == Obligation.member_id,
    )
    _stage(session, campaign.id, "self_assess", value)


def stage_session_evidence(session: Session, campaign: Campaign, as_of: dt.date) -> None:
    """Evidence of the sessions owed: the day the minimum number was reached in the window
    (for a grassroots organisation, sessions of its branches count too)."""
    plan = campaign.plan_file
    held = aliased(Unit)
    owner = aliased(Unit)
    if plan.sessions.per is SessionsPer.branch:
        by_unit: ColumnElement[bool] = Fact.unit_id == Obligation.unit_id
    else:
        path = (
            select(owner.path).where(owner.id == Obligation.unit_id).correlate(Obligation)
        ).scalar_subquery()
        by_unit = Fact.unit_id.in_(select(held.id).where(held.path.startswith(path)))
    for window in session_windows(plan):
        last = window.end if window.label else as_of
        value = _first_fact(
            campaign.id,
            as_of,
            FactKind.session_held,
            by_unit,
            Fact.date >= window.start,
            Fact.date <= last,
            nth=plan.sessions.minimum,
        )
        _stage(session, campaign.id, "hold_session", value, Obligation.window == window.label)


def mark_applied(session: Session, campaign: Campaign, as_of: dt.date, kinds: Iterable[str]) -> int:
    """Mark evidence facts as applied by this run; returns how many."""
    result = session.execute(
        update(Fact).where(_unapplied(campaign.id, as_of, kinds)).values(applied_on=as_of)
    )
    return int(getattr(result, "rowcount", 0))
