"""Obligations follow the tree: at each run, the open obligations a dissolved unit owns itself
(its sessions, plan and report) are waived from the day it was dissolved, "merged into B1 Chi bộ
khu phố 1" when it was merged into another (its members, and with them their obligations
through `campaign.roster_follow`, went to the survivor, which owns what remains); and the open
obligations of a unit moved out of the campaign's organisation, with its subtree's, are waived.

A branch moved under another grassroots organisation, or a level removed (its units
re-parented to the level above), needs nothing here: its obligations stay its own, and the
notices, escalations and targets read the tree as it stands, so the new superior is copied and
escalated to, the old parent's targets drop the unit and the new one's count it.

Set-based, reading only the units that changed: the dissolved ones (indexed by their day) and
those with a kept change of parent; running again changes nothing."""

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from models.campaigns import Campaign
from models.obligations import Obligation
from models.units import Unit, UnitChange
from states.engine import FireContext, fire_many
from states.obligation import LATE, OBLIGATION, UNMET

OPEN = (*UNMET, *LATE)  # what a dissolved unit no longer owes: every duty neither met nor waived


def follow_tree(session: Session, campaign: Campaign, ctx: FireContext) -> int:
    """Waive the open obligations of the units dissolved or merged by `ctx.as_of`, and of those
    moved out of the campaign's organisation; returns how many were waived."""
    owner_path = session.scalar(select(Unit.path).where(Unit.id == campaign.owner_id)) or "/"
    return _waive_dissolved(session, campaign, ctx) + _waive_moved_out(
        session, campaign, ctx, owner_path
    )


def _owing(campaign: Campaign, unit_id: Any) -> ColumnElement[bool]:
    """The unit's own open obligations in the campaign (its members' follow them)."""
    return and_(
        Obligation.campaign_id == campaign.id,
        Obligation.unit_id == unit_id,
        Obligation.member_id.is_(None),
        Obligation.state.in_(OPEN),
    )


def _waive_dissolved(session: Session, campaign: Campaign, ctx: FireContext) -> int:
    """One `fire_many` per unit dissolved by `ctx.as_of` that still owes something itself."""
    survivor = aliased(Unit)
    dissolved = session.execute(
        select(Unit.id, Unit.code, Unit.dissolved_on, survivor.code, survivor.name)
        .outerjoin(survivor, survivor.id == Unit.merged_into_id)
        .where(Unit.dissolved_on <= ctx.as_of, exists().where(_owing(campaign, Unit.id)))
        .order_by(Unit.dissolved_on, Unit.code)
    ).all()
    table, waived = OBLIGATION.table, 0
    for unit_id, code, day, into, into_name in dissolved:
        assert day is not None  # the query's dissolved_on <= as_of
        reason = f"merged into {into} {into_name}" if into else f"unit {code} dissolved"
        why = replace(
            ctx,
            reason=f"{reason} from {day:%d/%m/%Y}",
            payload={"unit": code, "merged_into": into, "since": day.isoformat()},
        )
        chosen = and_(
            table.c.campaign_id == campaign.id,
            table.c.unit_id == unit_id,
            table.c.member_id.is_(None),
        )
        waived += fire_many(session, OBLIGATION, "waive", ctx=why, where=chosen)
    return waived


def _waive_moved_out(
    session: Session, campaign: Campaign, ctx: FireContext, owner_path: str
) -> int:
    """One `fire_many` per unit moved by `ctx.as_of` from a parent inside the campaign's
    organisation to one outside it, while its subtree still owes something in the campaign
    (units moving between other organisations are never read)."""
    under, was = aliased(Unit), aliased(Unit)
    # A prefix compared as is: a LIKE built from a column would read its '_' as a wildcard.
    in_subtree = func.substr(under.path, 1, func.length(Unit.path)) == Unit.path
    owing = (
        select(Obligation.id)
        .join(under, under.id == Obligation.unit_id)
        .where(Obligation.campaign_id == campaign.id, Obligation.state.in_(OPEN), in_subtree)
    )
    moved = session.execute(
        select(Unit.code, Unit.path, UnitChange.new, UnitChange.changed_on)
        .join(UnitChange, UnitChange.unit_id == Unit.id)
        .join(was, was.code == UnitChange.old)
        .where(
            UnitChange.field == "parent",
            UnitChange.changed_on <= ctx.as_of,
            was.path.startswith(owner_path, autoescape=True),
            ~Unit.path.startswith(owner_path, autoescape=True),
            owing.exists(),
        )
        .order_by(UnitChange.changed_on, UnitChange.id)
    ).all()
    table, waived = OBLIGATION.table, 0
    for code, path, parent, day in moved:
        why = replace(
            ctx,
            reason=f"unit moved out: {code} under {parent} from {day:%d/%m/%Y}",
            payload={"unit": code, "parent": parent, "since": day.isoformat()},
        )
        subtree = select(Unit.id).where(Unit.path.startswith(path, autoescape=True))
        chosen = and_(table.c.campaign_id == campaign.id, table.c.unit_id.in_(subtree))
        waived += fire_many(session, OBLIGATION, "waive", ctx=why, where=chosen)
    return waived
