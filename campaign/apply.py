"""Applying recorded facts at a run's date: lifecycle facts move self-assessments, screening
cases and commendations (set-based, in rounds: each entity's first unapplied fact, then its
second …); the other facts become the evidence that obligations are judged by."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from campaign.deploy import session_windows
from campaign.fact_kinds import EVIDENCE, FACT_KINDS, fact_transition, kinds_moving
from campaign.fact_rounds import (
    ROUNDS,
    applying,
    in_group,
    number_rounds,
    targets,
    unapplied,
)
from campaign.within import Outside, Within, facts_within, holders_within, obligations_within
from models.bulk import in_lists
from models.campaigns import Campaign
from models.facts import Fact
from models.members import UNIT, Member, MemberChange
from models.obligations import Obligation, ObligationKind
from models.plans import SessionsPer
from models.units import Unit
from states.audit_chain import append_events
from states.engine import FireContext, fire_many, transition_event
from states.lifecycle import Lifecycle
from states.lifecycles import ASSESSMENT, COMMENDATION, OPENING, SCREENING

# The facts each lifecycle task of a run applies.
ASSESSMENT_KINDS = kinds_moving(ASSESSMENT)
SCREENING_KINDS = kinds_moving(SCREENING)
COMMENDATION_KINDS = kinds_moving(COMMENDATION)


def apply_lifecycle_facts(
    session: Session,
    campaign: Campaign,
    kinds: Iterable[str],
    ctx: FireContext,
    within: Within = None,
) -> int:
    """Apply the pending facts of `kinds` dated on or before the run (those `within` takes in);
    returns how many facts it applied (their transitions are counted by the audit trail)."""
    kinds = list(kinds)
    scope = facts_within(session, within)
    pending = select(Fact.id).where(unapplied(campaign.id, ctx.as_of, kinds, *scope))
    if session.scalar(pending.limit(1)) is None:
        return 0  # most steps of most runs: no temporary table made and dropped for nothing
    for group in number_rounds(session, campaign.id, ctx.as_of, kinds, *scope):
        _apply_group(session, campaign, group, ctx)
    # the facts numbered, marked by their ids: the part's facts are sought once
    numbered = Fact.id.in_(select(ROUNDS.c.fact_id))
    applied = session.execute(applying(numbered, ctx.as_of))
    ROUNDS.drop(session.connection())
    return int(getattr(applied, "rowcount", 0))


def _apply_group(
    session: Session, campaign: Campaign, group: tuple[int, str, str, str], ctx: FireContext
) -> None:
    _, kind, note, recorded_by = group
    found = fact_transition(kind, note)
    if found is None:
        return
    lifecycle, trigger = found
    scope = lifecycle.table.c.campaign_id == campaign.id
    fact_ctx = replace(ctx, actor=recorded_by or ctx.actor, reason=f"fact {kind} {note}".strip())
    if trigger is None:
        _open(session, campaign, lifecycle, group, fact_ctx)
        trigger = OPENING.get(lifecycle.name)
        scope = and_(scope, lifecycle.table.c.state == lifecycle.initial)
    if trigger is None:
        return
    for chosen in targets(lifecycle, group):
        fire_many(session, lifecycle, trigger, ctx=fact_ctx, where=and_(scope, chosen))


def _open(
    session: Session,
    campaign: Campaign,
    lifecycle: Lifecycle,
    group: tuple[int, str, str, str],
    ctx: FireContext,
) -> None:
    """Open an entity per fact of the group (a screening case, a nomination), in the facts'
    order, members' first; audited as `open`."""
    table = lifecycle.table
    last = session.scalar(select(func.max(table.c.id))) or 0
    shared = (literal(campaign.id), literal(lifecycle.initial), literal(ctx.as_of))
    columns = ["campaign_id", "state", "since", "member_id", "unit_id"]
    members = (
        select(*shared, Member.id, Member.unit_id)
        .join_from(ROUNDS, Member, Member.id == ROUNDS.c.member_id)
        .where(in_group(group, members=True))
    )
    units = select(*shared, null(), ROUNDS.c.unit_id).where(in_group(group, members=False))
    for rows in (members, units):
        session.execute(
            insert(table).from_select(columns, rows.order_by(ROUNDS.c.date, ROUNDS.c.fact_id))
        )
    # only this group's: a partition in another process may open others' meanwhile
    mine = and_(
        table.c.id > last, table.c.campaign_id == campaign.id, or_(*targets(lifecycle, group))
    )
    read = (table.c.id, table.c.campaign_id, table.c.unit_id, table.c.member_id)
    opened = session.execute(select(*read).where(mine).order_by(table.c.id)).mappings()
    append_events(
        session,
        [transition_event(lifecycle, row, "open", "", lifecycle.initial, ctx) for row in opened],
        chain=ctx.chain,
    )


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
    session: Session,
    campaign_id: int,
    kind: str,
    value: Any,
    *where: ColumnElement[bool],
    found: bool = False,
) -> None:
    """Set the evidence date of the chosen obligations still without one to `value`; `found`
    when `where` already implies there is one (a new fact of the kind), else rows that have
    none are left as they are, unwritten."""
    session.execute(
        update(Obligation)
        .where(
            Obligation.campaign_id == campaign_id,
            Obligation.kind == kind,
            Obligation.evidence_on.is_(None),
            *where,
            *(() if found else (value.is_not(None),)),
        )
        .values(evidence_on=value)
        .execution_options(synchronize_session=False)
    )


def _named_by_new_facts(
    session: Session,
    campaign_id: int,
    as_of: dt.date,
    fact_kind: str,
    column: Any,
    fact_column: Any,
    within: Within,
    today: bool = False,
) -> ColumnElement[bool]:
    """Rows (obligations, or units) whose unit or member id `column` is the `fact_column` of a
    fact of `fact_kind` not yet applied that the part of the tree `within` takes in: the only
    ones new evidence can reach. Facts once applied were staged then, and an obligation
    created later is staged whole by `stage_created`. `today`: also the facts applied at this
    date (by the parts before the owner's pass, whose sessions reach up to its units).

    As `IN (the part's pending facts)`, one range of the pending facts' path index per subtree:
    a semi-join the planner drives from the part's own new facts. (Asked row by row, as an
    EXISTS per obligation, every run read every obligation of the part; inside an OR, as it
    once was, PostgreSQL could not make it a join and ran the subquery per row: 8 minutes at a
    million members.)"""
    pending = and_(Fact.applied_on.is_(None), Fact.date <= as_of, *facts_within(session, within))
    new = or_(pending, Fact.applied_on == as_of) if today else pending
    facts = select(fact_column).where(Fact.campaign_id == campaign_id, Fact.kind == fact_kind, new)
    return column.in_(facts)


def stage_first_evidence(
    session: Session,
    campaign: Campaign,
    as_of: dt.date,
    duty: ObligationKind,
    *which: ColumnElement[bool],
    within: Within = None,
) -> None:
    """Evidence of a duty one fact meets (plan issued, self-assessment submitted, report
    submitted): the first such fact of the obligation's member, when the kind names one, else of
    its unit; for the obligations new facts touch, unless `which` chooses others (and of
    those, the obligations of the units `within`)."""
    kind = EVIDENCE[duty]
    on = "member_id" if FACT_KINDS[kind].needs_member else "unit_id"
    owner, reporter = getattr(Obligation, on), getattr(Fact, on)
    value = _first_fact(campaign.id, as_of, kind, reporter == owner)
    # a fact is taken in by the part its obligation is in (`stage_moving_members`: those not)
    touched = _named_by_new_facts(session, campaign.id, as_of, kind, owner, reporter, within)
    scope = obligations_within(session, within)
    _stage(session, campaign.id, duty, value, *(which or (touched,)), *scope, found=not which)


def stage_moving_members(session: Session, campaign: Campaign, as_of: dt.date) -> None:
    """Self-assessment evidence of the members whose obligation is still at a unit they are
    leaving (a move dated after the run: `campaign.roster_follow` moves the obligation on
    that day). Their facts lie at their unit now (`models.facts.path_of`), and a part of the
    tree stages the evidence of its own facts for its own obligations: theirs are staged here
    once, for the whole tree, before the parts run. Only the members with a change of unit
    are read, not every obligation."""
    movers = select(MemberChange.member_id).where(MemberChange.field == UNIT)
    now = select(Member.unit_id).where(Member.id == Obligation.member_id).scalar_subquery()
    elsewhere = (Obligation.member_id.in_(movers), Obligation.unit_id != now)
    stage_first_evidence(session, campaign, as_of, ObligationKind.self_assess, *elsewhere)


def stage_session_evidence(
    session: Session,
    campaign: Campaign,
    as_of: dt.date,
    *which: ColumnElement[bool],
    within: Within = None,
) -> None:
    """Evidence of the sessions owed: the day the minimum number was reached in the window
    (for a grassroots organisation, sessions of its branches count too). Recomputed for the
    units whose sessions came in since the last run, unless `which` chooses the obligations
    (and of those, the obligations of the units `within`)."""
    duty = ObligationKind.hold_session
    plan = campaign.plan_file
    per_branch = plan.sessions.per is SessionsPer.branch
    if which:
        chosen = [(*which, *obligations_within(session, within))]
    else:
        chosen = _new_sessions_reach(session, campaign.id, as_of, per_branch, within)
    held, owner = aliased(Unit), aliased(Unit)
    if per_branch:
        by_unit: ColumnElement[bool] = Fact.unit_id == Obligation.unit_id
    else:
        path = (
            select(owner.path).where(owner.id == Obligation.unit_id).correlate(Obligation)
        ).scalar_subquery()
        # The held unit's path begins with the owner's: compared as text (a LIKE would read a
        # code's `_` as a wildcard).
        by_unit = Fact.unit_id.in_(
            select(held.id).where(func.substr(held.path, 1, func.length(path)) == path)
        )
    for window in session_windows(plan):
        last = window.end if window.label else as_of
        value = _first_fact(
            campaign.id,
            as_of,
            EVIDENCE[duty],
            by_unit,
            Fact.date >= window.start,
            Fact.date <= last,
            nth=plan.sessions.minimum,
        )
        for where in chosen:
            _stage(session, campaign.id, duty, value, Obligation.window == window.label, *where)


def _new_sessions_reach(
    session: Session, campaign_id: int, as_of: dt.date, per_branch: bool, within: Within
) -> list[tuple[ColumnElement[bool], ...]]:
    """The obligations sessions not yet applied can change, as predicates (one statement each):
    a branch's own, or every unit's above or at the units that held them; of those, the
    obligations of the units `within`. (Sessions reach up the tree only: a subtree's
    obligations are reached by its own units' sessions.)"""
    kind = EVIDENCE[ObligationKind.hold_session]
    today = isinstance(within, Outside)  # sessions reach up: a subtree's are its own units'
    scope = obligations_within(session, within)
    if per_branch:
        touched = _named_by_new_facts(
            session, campaign_id, as_of, kind, Obligation.unit_id, Fact.unit_id, within, today
        )
        return [(touched, *scope)]
    held = session.scalars(
        select(Unit.path).where(
            _named_by_new_facts(
                session, campaign_id, as_of, kind, Unit.id, Fact.unit_id, within, today
            ),
            *holders_within(session, within),
        )
    )
    above = {path[: end + 1] for path in held for end, c in enumerate(path) if c == "/"}
    return [
        (Obligation.unit_id.in_(units), *scope)
        for units in in_lists(select(Unit.id), Unit.path, above)
    ]


def stage_created(session: Session, campaign: Campaign, as_of: dt.date, after_id: int) -> None:
    """Evidence for obligations just created (id above `after_id`), from every fact so far,
    applied or not: a member or unit that joined the campaign late keeps what it reported."""
    created = Obligation.id > after_id
    for duty in (
        ObligationKind.issue_plan,
        ObligationKind.self_assess,
        ObligationKind.report_upward,
    ):
        stage_first_evidence(session, campaign, as_of, duty, created)
    stage_session_evidence(session, campaign, as_of, created)


def mark_applied(
    session: Session,
    campaign: Campaign,
    as_of: dt.date,
    kinds: Iterable[str],
    within: Within = None,
) -> int:
    """Mark the pending facts of `kinds` (evidence or lifecycle facts) as applied by this run
    (those `within` takes in); returns how many."""
    scope = facts_within(session, within)
    result = session.execute(applying(unapplied(campaign.id, as_of, kinds, *scope), as_of))
    return int(getattr(result, "rowcount", 0))
