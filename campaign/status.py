"""Reading a campaign: progress by unit rolled up the tree, open escalations, the audit trail.

Read-only and set-based: a handful of grouped queries, rolled up in one pass over the units.
Nothing here starts Prefect."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from campaign.roster_follow import late_joiners
from models.audit import AuditEvent
from models.campaigns import Campaign, get_campaign
from models.members import Member, MemberStatus, roster_on
from models.obligations import Obligation, ObligationKind, TargetName
from models.units import Unit, UnitKind, units_under
from models.views import (
    AuditView,
    CampaignStatus,
    EscalationView,
    ObligationView,
    Target,
    Targets,
    UnitStatus,
)
from states.obligation import DONE, LATE, ObligationState
from states.roster import MEMBER, UNIT

# A unit's counts, one flat list: done and eligible of each target in TargetName's order. Plain
# ints summed up the tree for thousands of units on every run.
Counts = list[int]


def _targets(counts: Counts) -> Targets:
    return Targets(
        **{n: Target.of(counts[2 * i], counts[2 * i + 1]) for i, n in enumerate(TargetName)}
    )


def _counts_by_unit(session: Session, campaign_id: int, day: dt.date) -> dict[int, Counts]:
    """Each unit's own counts on `day`: one row per unit, every target's done and eligible
    summed in the same scan of its obligations. A member's duty counts in the unit they were in
    on `day` (the roster as it stood, `roster_on`), if they were then active, once met where it
    was met; done is met by `day`."""
    roster, was_in = roster_on(day), aliased(Unit)
    done = and_(Obligation.state.in_(DONE), Obligation.evidence_on <= day)
    assessed = Obligation.kind == ObligationKind.self_assess
    led = case((roster.c.leader.is_(None), Member.leader), else_=roster.c.leader == "yes")
    leaders = and_(assessed, func.coalesce(led, false()))
    sessions = Obligation.kind == ObligationKind.hold_session
    counted = {
        TargetName.members_self_assessed: assessed,
        TargetName.leaders_self_assessed: leaders,
        TargetName.branches_with_sessions: sessions,
    }
    sums = [
        func.sum(case((chosen, 1), else_=0))
        for target in (counted[name] for name in TargetName)
        for chosen in (and_(target, done), target)
    ]
    unit = case(
        (or_(Obligation.member_id.is_(None), done), Obligation.unit_id),
        else_=func.coalesce(was_in.id, Member.unit_id),
    )
    on_roster = and_(
        func.coalesce(roster.c.status, Member.status) == MemberStatus.active.value,
        roster.c.absent.is_(None),
    )
    query = (
        select(unit, *sums)
        .outerjoin(Member, Member.id == Obligation.member_id)
        .outerjoin(roster, roster.c.member_id == Obligation.member_id)
        .outerjoin(was_in, was_in.code == roster.c.unit)
        .where(
            Obligation.campaign_id == campaign_id,
            Obligation.kind.in_((ObligationKind.self_assess, ObligationKind.hold_session)),
            or_(Obligation.member_id.is_(None), on_roster),
            or_(Obligation.member_id.is_not(None), Obligation.state != ObligationState.waived),
        )
        .group_by(unit)
    )
    return {unit_id: [int(n or 0) for n in counts] for unit_id, *counts in session.execute(query)}


class _UnitRow(NamedTuple):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str


def _under(session: Session, root_path: str) -> ColumnElement[bool]:
    """Units in the subtree at `root_path`: a range of the path index, as the sweep reads it."""
    return units_under([root_path], dialect=session.get_bind().dialect.name)


def _subtree(session: Session, root_path: str) -> list[_UnitRow]:
    query = select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.path).where(
        _under(session, root_path)
    )
    return [_UnitRow._make(row) for row in session.execute(query.order_by(Unit.path))]


def _rolled_up(units: list[_UnitRow], own: dict[int, Counts]) -> dict[int, Counts]:
    """Each unit's counts over its subtree: deepest units first, each added into its parent."""
    nothing = [0] * (2 * len(TargetName))
    totals = {u.id: list(own.get(u.id, nothing)) for u in units}
    for unit in sorted(units, key=lambda u: u.path.count("/"), reverse=True):
        parent = totals.get(unit.parent_id or -1)
        if parent is not None:
            for i, n in enumerate(totals[unit.id]):
                parent[i] += n
    return totals


def _unit_obligations(
    session: Session, campaign_id: int, root_path: str, *, branches: bool
) -> dict[int, list[ObligationView]]:
    """The units' own obligations (not their members'), for the units shown: the subtree at
    `root_path`, its branches only if asked (a province's branches hold most of them)."""
    shown = [_under(session, root_path)]
    if not branches:
        shown.append(Unit.kind != UnitKind.branch.value)
    query = (
        select(
            Obligation.unit_id,
            Obligation.kind,
            Obligation.due,
            Obligation.state,
            Obligation.escalation_level,
            Obligation.window,
        )
        .where(
            Obligation.campaign_id == campaign_id,
            Obligation.unit_id.in_(select(Unit.id).where(*shown)),  # seeks the shown units'
            Obligation.member_id.is_(None),
        )
        .order_by(Obligation.unit_id, Obligation.due, Obligation.kind)
    )
    found: dict[int, list[ObligationView]] = defaultdict(list)
    for unit_id, kind, due, state, level, window in session.execute(query):
        found[unit_id].append(
            ObligationView(
                kind=kind, due=due, state=state, escalation_level=level, window=window or None
            )
        )
    return found


def campaign_status(
    session: Session,
    code: str,
    unit: str | None = None,
    *,
    branches: bool = True,
    as_of: dt.date | None = None,
) -> CampaignStatus:
    """Progress against the targets, by unit, rolled up the hierarchy (optionally one subtree;
    without `branches`, units stop at the grassroots organisations, counts still include all),
    on the roster as it stood `as_of` (default: the last run's date), and who the plan left out."""
    campaign = get_campaign(session, code)
    day = as_of or campaign.last_run_on
    root = _root_path(session, campaign, unit)
    units = _subtree(session, root)
    totals = _rolled_up(units, _counts_by_unit(session, campaign.id, day or dt.date.max))
    shown = units if branches else [u for u in units if u.kind != UnitKind.branch.value]
    obligations = _unit_obligations(session, campaign.id, root, branches=branches)
    codes = {u.id: u.code for u in units}
    views = [
        UnitStatus(
            code=u.code,
            name=u.name,
            kind=u.kind,
            parent=codes.get(u.parent_id or -1),
            targets=_targets(totals[u.id]),
            obligations=obligations.get(u.id, []),
        )
        for u in shown
    ]
    return CampaignStatus(
        campaign=campaign.code,
        title=campaign.title,
        as_of=day,
        state=campaign.state,
        targets=_targets(totals[units[0].id]),
        units=views,
        excluded=late_joiners(session, campaign, root, day),
    )


def _root_path(session: Session, campaign: Campaign, unit: str | None) -> str:
    from models.errors import NotFound, OutOfScope

    owner_path = session.scalar(select(Unit.path).where(Unit.id == campaign.owner_id)) or "/"
    if unit is None:
        return owner_path
    path = session.scalar(select(Unit.path).where(Unit.code == unit))
    if path is None:
        raise NotFound(f"no unit '{unit}'")
    if not path.startswith(owner_path):
        raise OutOfScope(f"unit '{unit}' is outside campaign {campaign.code}")
    return path


def open_escalations(session: Session, code: str) -> list[EscalationView]:
    """Every obligation now overdue or escalated; late members grouped under their unit."""
    campaign = get_campaign(session, code)
    return [
        EscalationView.model_validate(group._asdict())
        for group in obligation_groups(session, campaign, LATE)
    ]


class ObligationGroup(NamedTuple):
    """Obligations as the notices group them: a unit's own, or its members' of one kind,
    window, due date, state and level (their codes listed)."""

    unit: str
    unit_name: str
    unit_path: str
    obligation: str
    due: dt.date
    state: str
    level: int
    since: dt.date | None
    window: str | None
    members: list[str] | None


def obligation_groups(
    session: Session, campaign: Campaign, states: tuple[str, ...], unit: str | None = None
) -> list[ObligationGroup]:
    """The campaign's obligations in `states` (of `unit`'s subtree if given), grouped as the
    notices group them, most escalated first: one grouped query, one query of the members."""
    scope = [Obligation.campaign_id == campaign.id, Obligation.state.in_(states)]
    if unit is not None:
        shown = _under(session, _root_path(session, campaign, unit))
        scope.append(Obligation.unit_id.in_(select(Unit.id).where(shown)))
    keys = (
        Unit.code,
        Unit.name,
        Unit.path,
        Obligation.kind,
        Obligation.due,
        Obligation.state,
        Obligation.escalation_level,
    )
    query = (
        select(
            *keys, func.min(Obligation.since), Obligation.window, func.count(Obligation.member_id)
        )
        .join(Unit, Unit.id == Obligation.unit_id)
        .where(*scope)
        .group_by(*keys, Obligation.window)
        .order_by(Obligation.escalation_level.desc(), Obligation.due, Unit.path)
    )
    members = _members_by_group(session, scope)
    return [
        ObligationGroup(
            code,
            name,
            path,
            kind,
            due,
            state,
            level,
            since,
            window or None,
            members.get((code, kind, window, due, state, level)) if count else None,
        )
        for code, name, path, kind, due, state, level, since, window, count in session.execute(
            query
        )
    ]


def _members_by_group(
    session: Session, scope: list[ColumnElement[bool]]
) -> dict[tuple[str, str, str, dt.date, str, int], list[str]]:
    query = (
        select(
            Unit.code,
            Obligation.kind,
            Obligation.window,
            Obligation.due,
            Obligation.state,
            Obligation.escalation_level,
            Member.code,
        )
        .join(Unit, Unit.id == Obligation.unit_id)
        .join(Member, Member.id == Obligation.member_id)
        .where(*scope)
        .order_by(Member.code)
    )
    found: dict[tuple[str, str, str, dt.date, str, int], list[str]] = defaultdict(list)
    for *group, member in session.connection().execute(query):  # Core rows: no ORM overhead
        found[tuple(group)].append(member)  # type: ignore[index]
    return found


@dataclass(frozen=True)
class AuditFilter:
    """Which events a reviewer asks for: `actor`'s; `within`, the path of the subtree an account
    reaches (its units' events and their members'; None: the whole campaign, events of no unit
    too); those after the seq `after` (a page's start)."""

    unit: str | None = None
    member: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    actor: str | None = None
    within: str | None = None
    after: int = 0


def audit_trail(
    session: Session, code: str, where: AuditFilter, *, batch: int = 10_000
) -> Iterator[AuditView]:
    """The campaign's audit events in order, filtered; streamed in batches."""
    campaign = get_campaign(session, code)
    query = _audit_query(session, campaign, where)
    for row in session.execute(query.execution_options(yield_per=batch)):
        yield AuditView.model_validate(row._mapping)


def _of_campaign(session: Session, campaign: Campaign, where: AuditFilter) -> ColumnElement[bool]:
    """The campaign's own events; for a unit or a member, also the roster and tree changes
    (which belong to no campaign) made since the campaign's first event, its registration:
    what moved them in or out of its targets."""
    e = AuditEvent
    own = e.campaign_id == campaign.id
    if where.unit is None and where.member is None and where.within is None:
        return own
    first = session.scalar(select(func.min(e.seq)).where(own))
    roster = and_(e.campaign_id.is_(None), e.entity.in_((MEMBER, UNIT)), e.seq > (first or 0))
    return or_(own, roster)


def _audit_query(
    session: Session, campaign: Campaign, where: AuditFilter
) -> Select[*tuple[Any, ...]]:
    unit, member = Unit.__table__.alias("u"), Member.__table__.alias("m")
    e = AuditEvent
    query = (
        select(
            e.seq,
            e.at,
            e.recorded_at,
            e.actor,
            e.entity,
            e.entity_id,
            unit.c.code.label("unit"),
            member.c.code.label("member"),
            e.trigger,
            e.from_state.label("from"),
            e.to_state.label("to"),
            e.reason,
            e.hash,
        )
        .outerjoin(unit, unit.c.id == e.unit_id)
        .outerjoin(member, member.c.id == e.member_id)
        .where(_of_campaign(session, campaign, where))
        .order_by(e.seq)
    )
    if where.unit is not None:
        query = query.where(
            unit.c.path.startswith(_root_path(session, campaign, where.unit), autoescape=True)
        )
    if where.member is not None:
        query = query.where(member.c.code == where.member)
    if where.since is not None:
        query = query.where(e.at >= where.since)
    if where.until is not None:
        query = query.where(e.at <= where.until)
    if where.actor is not None:
        query = query.where(e.actor == where.actor)
    if where.within is not None:
        inside = select(Unit.id).where(_under(session, where.within))
        of_member = and_(e.unit_id.is_(None), member.c.unit_id.in_(inside))
        query = query.where(or_(e.unit_id.in_(inside), of_member))
    return query.where(e.seq > where.after) if where.after else query
