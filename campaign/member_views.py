"""What the console's page of one member shows: who they are, the unit they are in, their
duties in the campaign with their states, and their dated history.

A member is within a subtree if their unit lies in it now, or did at any time of their kept
history (a branch's secretary sees who moved out, to understand why the numbers changed):
that is part of the query (`member_within`), never a link hidden from a page."""

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from campaign.console_words import (
    MEMBER_STATUS_NAMES,
    ladder_step,
    obligation_name,
    obligation_state_name,
)
from campaign.history_lines import ChangeLine, member_changes
from models.campaigns import get_campaign
from models.members import JOINED, UNIT, Member, MemberChange
from models.obligations import Obligation
from models.units import Unit


class MemberDuty(BaseModel):
    """One of the member's duties in the campaign, and the unit it is chased through."""

    name: str
    unit: str
    due: dt.date
    state: str
    state_name: str
    ladder: str


class MemberPage(BaseModel):
    """A member's page."""

    code: str
    title: str
    member: str
    full_name: str
    position: str
    unit: str
    unit_name: str
    unit_within: bool  # whether the member's unit lies in the account's subtree (a link then)
    status_name: str
    leader: bool
    duties: list[MemberDuty]
    changes: list[ChangeLine]


def member_within(session: Session, code: str, root_path: str) -> Member | None:
    """Member `code` if their unit, now or in any kept change, lies under `root_path`."""
    inside = Unit.path.startswith(root_path, autoescape=True)
    now = exists().where(Unit.id == Member.unit_id, inside)
    once = exists().where(
        MemberChange.member_id == Member.id,
        MemberChange.field.in_((UNIT, JOINED)),
        or_(Unit.code == MemberChange.old, Unit.code == MemberChange.new),
        inside,
    )
    return session.scalar(select(Member).where(Member.code == code, or_(now, once)))


def member_exists(session: Session, code: str) -> bool:
    """Whether there is a member `code` at all."""
    return session.scalar(select(Member.id).where(Member.code == code)) is not None


def member_page(session: Session, code: str, member: Member, root_path: str) -> MemberPage:
    """The page of `member` (found by `member_within`) in campaign `code`."""
    campaign = get_campaign(session, code)
    unit = session.execute(
        select(Unit.code, Unit.name, Unit.path).where(Unit.id == member.unit_id)
    ).one()
    return MemberPage(
        code=campaign.code,
        title=campaign.title,
        member=member.code,
        full_name=member.full_name,
        position=member.position,
        unit=unit.code,
        unit_name=unit.name,
        unit_within=unit.path.startswith(root_path),
        status_name=MEMBER_STATUS_NAMES.get(member.status, member.status),  # type: ignore[call-overload]
        leader=member.leader,
        duties=_duties(session, campaign.id, member.id),
        changes=member_changes(session, member.id),
    )


def _duties(session: Session, campaign_id: int, member_id: int) -> list[MemberDuty]:
    query = (
        select(
            Obligation.kind,
            Obligation.window,
            Unit.code,
            Obligation.due,
            Obligation.state,
            Obligation.escalation_level,
        )
        .join(Unit, Unit.id == Obligation.unit_id)
        .where(Obligation.campaign_id == campaign_id, Obligation.member_id == member_id)
        .order_by(Obligation.due, Obligation.kind, Obligation.id)
    )
    return [
        MemberDuty(
            name=obligation_name(kind, window or None),
            unit=unit,
            due=due,
            state=state,
            state_name=obligation_state_name(state),
            ladder=ladder_step(state, level),
        )
        for kind, window, unit, due, state, level in session.execute(query)
    ]
