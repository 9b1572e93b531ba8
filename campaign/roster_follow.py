"""Obligations follow the roster: at each run, the open obligations of a member who left are
waived, and those of a member who moved are chased through the new unit, each from the day the
change holds (the roster's dated changes, `member_change`).

Set-based: the candidates are the members with a dated change, read with the obligations they
own in one query, never the whole roster. Only what differs from the roster at the run's date
moves, so running again changes nothing. What was met stays where it was met; a member moved to
a unit outside the campaign's organisation has left it, as one whose status says so."""

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import Subquery, and_, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from models.campaigns import Campaign
from models.members import (
    JOINED,
    LEFT,
    STATUS,
    UNIT,
    Member,
    MemberChange,
    MemberStatus,
    roster_on,
)
from models.obligations import Obligation
from models.units import Unit
from models.views import ExcludedMember
from states.audit_chain import Entity, append_events, audit_event
from states.engine import FireContext, fire_many
from states.lifecycles import ASSESSMENT
from states.obligation import LATE, OBLIGATION, UNMET, ObligationState

MOVE = "move"  # an obligation's event when its member moved: its unit changes, its state stays
OPEN = (*UNMET, *LATE)  # what follows the member: every obligation neither met nor waived


def follow_roster(session: Session, campaign: Campaign, ctx: FireContext) -> int:
    """Waive the open obligations of members who left (by their status, or by a move out of the
    campaign's organisation) and move those of members who moved within it, as the roster
    stands at `ctx.as_of`; returns how many obligations were waived or moved."""
    owner_path = session.scalar(select(Unit.path).where(Unit.id == campaign.owner_id)) or "/"
    outside = select(Unit.code).where(~Unit.path.startswith(owner_path, autoescape=True))
    left = [s.value for s in LEFT]
    waived = _waive(session, campaign, ctx, "status", left, "member left: status")
    exempt = [MemberStatus.exempt.value]
    waived += _waive(session, campaign, ctx, "status", exempt, "member exempted: status")
    waived += _waive(session, campaign, ctx, "unit", outside, "member moved out: unit")
    back = _reinstate(session, campaign, ctx, owner_path)
    return waived + back + _move(session, campaign, ctx, owner_path)


def _latest(field: str, as_of: dt.date) -> Subquery:
    """Each member's latest change of `field` holding by `as_of`: (member_id, new, changed_on)."""
    order = (MemberChange.changed_on.desc(), MemberChange.id.desc())
    ranked = (
        select(
            MemberChange.member_id,
            MemberChange.new,
            MemberChange.changed_on,
            func.row_number().over(partition_by=MemberChange.member_id, order_by=order).label("n"),
        )
        .where(MemberChange.field == field, MemberChange.changed_on <= as_of)
        .subquery()
    )
    latest = select(ranked.c.member_id, ranked.c.new, ranked.c.changed_on).where(ranked.c.n == 1)
    return latest.subquery()


def _waive(
    session: Session,
    campaign: Campaign,
    ctx: FireContext,
    field: str,
    values: Any,
    words: str,
) -> int:
    """Waive, through the obligation's lifecycle, the open obligations of every member whose
    `field` at `ctx.as_of` is one of `values` (a list, or a select of them); one `fire_many`
    per value and day, its reason `words` followed by them."""
    table = OBLIGATION.table
    latest = _latest(field, ctx.as_of)
    owing = select(table.c.member_id).where(
        table.c.campaign_id == campaign.id, table.c.state.in_(OPEN)
    )
    groups = session.execute(
        select(latest.c.new, latest.c.changed_on)
        .distinct()
        .where(latest.c.new.in_(values), latest.c.member_id.in_(owing))
        .order_by(latest.c.changed_on, latest.c.new)
    ).all()
    waived = 0
    for new, day in groups:
        who = select(latest.c.member_id).where(latest.c.new == new, latest.c.changed_on == day)
        why = replace(
            ctx,
            reason=f"{words} {new} from {day:%d/%m/%Y}",
            payload={field: new, "since": day.isoformat()},
        )
        chosen = and_(table.c.campaign_id == campaign.id, table.c.member_id.in_(who))
        waived += fire_many(session, OBLIGATION, "waive", ctx=why, where=chosen)
    return waived


def _reinstate(session: Session, campaign: Campaign, ctx: FireContext, owner_path: str) -> int:
    """Reopen, through the obligation's lifecycle, the waived obligations of every member who
    is back at `ctx.as_of` (active, in a unit of the campaign's organisation, after a dated
    change) and whose due date had not passed when they came back; one `fire_many` per day."""
    back = _returned(ctx.as_of, owner_path)
    table = OBLIGATION.table
    waived = and_(
        table.c.campaign_id == campaign.id,
        table.c.state == ObligationState.waived,
        table.c.member_id.in_(select(back.c.member_id)),
    )
    days = session.execute(
        select(back.c.day)
        .distinct()
        .join(table, table.c.member_id == back.c.member_id)
        .where(waived, table.c.due >= back.c.day)
        .order_by(back.c.day)
    ).scalars()
    reinstated = 0
    for day in days.all():
        who = select(back.c.member_id).where(back.c.day == day)
        why = replace(ctx, reason=f"member back from {day:%d/%m/%Y}", payload={"since": str(day)})
        chosen = and_(waived, table.c.member_id.in_(who), table.c.due >= day)
        reinstated += fire_many(session, OBLIGATION, "reinstate", ctx=why, where=chosen)
    return reinstated


def _returned(as_of: dt.date, owner_path: str) -> Subquery:
    """The members who stand in the campaign's organisation at `as_of` (active, in one of its
    units), with the day of their last change of status or unit by then: (member_id, day)."""
    roster = roster_on(as_of)
    last = (
        select(MemberChange.member_id, func.max(MemberChange.changed_on).label("day"))
        .where(MemberChange.field.in_((STATUS, UNIT)), MemberChange.changed_on <= as_of)
        .group_by(MemberChange.member_id)
        .subquery()
    )
    now = aliased(Unit)
    return (
        select(last.c.member_id, last.c.day)
        .join(Member, Member.id == last.c.member_id)
        .join(roster, roster.c.member_id == Member.id)
        .join(now, now.id == Member.unit_id)
        .join(Unit, Unit.code == func.coalesce(roster.c.unit, now.code))
        .where(
            func.coalesce(roster.c.status, Member.status) == MemberStatus.active.value,
            roster.c.absent.is_(None),
            Unit.path.startswith(owner_path, autoescape=True),
        )
        .subquery()
    )


def _move(session: Session, campaign: Campaign, ctx: FireContext, owner_path: str) -> int:
    """Re-point each open obligation whose member is, at `ctx.as_of`, in another unit of the
    campaign's organisation; one event each, its state kept, saying from where, to where and
    from when."""
    rows = session.execute(_moved(campaign, ctx.as_of, owner_path)).all()
    if not rows:
        return 0
    table = OBLIGATION.table
    session.execute(
        update(table)
        .where(table.c.id == bindparam("moved"), table.c.unit_id == bindparam("was"))
        .values(unit_id=bindparam("now")),
        [{"moved": row.id, "was": row.was, "now": row.now} for row in rows],
    )
    _move_assessments(session, campaign.id, rows)
    append_events(session, [_move_event(row, campaign.id, ctx) for row in rows], ctx.chain)
    return len(rows)


def _move_assessments(session: Session, campaign_id: int, rows: Any) -> None:
    """The moved members' self-assessments not yet accepted go with their obligation: what the
    new branch takes in from then on is audited under it."""
    table = ASSESSMENT.table
    session.execute(
        update(table)
        .where(
            table.c.campaign_id == campaign_id,
            table.c.member_id == bindparam("member"),
            table.c.unit_id == bindparam("was"),
            # one comparison per final state: an IN list cannot expand in an executemany
            *(table.c.state != final for final in sorted(ASSESSMENT.finals)),
        )
        .values(unit_id=bindparam("now")),
        [{"member": row.member_id, "was": row.was, "now": row.now} for row in rows],
    )


def _moved(campaign: Campaign, as_of: dt.date, owner_path: str) -> Any:
    """The open obligations of the campaign whose member's unit at `as_of` is another one in
    its organisation: the obligation, its state and member, the old and the new unit, the day."""
    latest = _latest("unit", as_of)
    old, new = aliased(Unit), aliased(Unit)
    return (
        select(
            Obligation.id,
            Obligation.state,
            Obligation.member_id,
            old.id.label("was"),
            old.code.label("was_code"),
            new.id.label("now"),
            new.code.label("now_code"),
            latest.c.changed_on,
        )
        .select_from(Obligation)
        .join(latest, latest.c.member_id == Obligation.member_id)
        .join(new, new.code == latest.c.new)
        .join(old, old.id == Obligation.unit_id)
        .where(
            Obligation.campaign_id == campaign.id,
            Obligation.state.in_(OPEN),
            Obligation.unit_id != new.id,
            new.path.startswith(owner_path, autoescape=True),
        )
        .order_by(Obligation.id)
    )


def _move_event(row: Any, campaign_id: int, ctx: FireContext) -> dict[str, Any]:
    """The audit event of one obligation that followed its member to another unit."""
    day: dt.date = row.changed_on
    return audit_event(
        at=ctx.as_of,
        actor=ctx.actor,
        about=Entity(OBLIGATION.name, row.id, campaign_id, row.now, row.member_id),
        trigger=MOVE,
        from_state=row.state,
        to_state=row.state,
        reason=f"member moved: unit {row.was_code} → {row.now_code} from {day:%d/%m/%Y}",
        payload={"unit": {"from": row.was_code, "to": row.now_code}, "since": day.isoformat()},
    )


def late_joiners(
    session: Session, campaign: Campaign, root_path: str, day: dt.date | None
) -> list[ExcludedMember]:
    """The members of the subtree at `root_path` admitted after the plan's cut-off for new
    members (and by `day`, if given), whom the plan sets no duty: each with the reason."""
    cut_off = campaign.plan_file.new_members_until
    if cut_off is None:
        return []
    joined = MemberChange.changed_on
    query = (
        select(Member.code, Member.full_name, Unit.code, joined)
        .join(MemberChange, MemberChange.member_id == Member.id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(
            MemberChange.field == JOINED,
            joined > cut_off,
            joined <= (day or dt.date.max),
            Unit.path.startswith(root_path, autoescape=True),
        )
        .order_by(Unit.path, Member.code)
    )
    return [
        ExcludedMember(
            member=code,
            name=name,
            unit=unit,
            joined=on,
            reason=f"joined {on:%d/%m/%Y}, after the plan's cut-off for new members "
            f"({cut_off:%d/%m/%Y})",
        )
        for code, name, unit, on in session.execute(query)
    ]
