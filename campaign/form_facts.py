"""Recording a unit's facts from a form rather than a file: the form's entries become the rows
of a facts file (its columns, its header row 1) and go through `import_facts` like any file."""

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.fact_kinds import FACT_KINDS, Reporter
from models.campaigns import Campaign
from models.casework import Assessment
from models.facts import FactKind
from models.files import Sheet, SheetRow
from models.members import Member, MemberStatus
from models.units import Unit, UnitKind

# How the form names the columns it fills, when it names a problem's column.
FORM_HEADERS = {
    "date": "ngày",
    "kind": "loại",
    "unit": "đơn vị",
    "member": "đảng viên",
    "note": "ghi chú",
}
FORM_NAME = "biểu mẫu"


@dataclass(frozen=True)
class Entry:
    """One fact a form records: its date cell as typed, its kind, and its member and note."""

    date: str
    kind: FactKind
    member: str = ""
    note: str = ""


def form_sheet(unit_code: str, entries: list[Entry]) -> Sheet:
    """The facts file a form's entries would be, all of unit `unit_code`: row 2 onwards."""
    rows = [
        SheetRow(
            number,
            {
                "date": e.date.strip(),
                "kind": e.kind.value,
                "unit": unit_code,
                "member": e.member.strip(),
                "note": e.note.strip(),
            },
        )
        for number, e in enumerate(entries, start=2)
    ]
    return Sheet(FORM_NAME, dict(FORM_HEADERS), rows)


class MemberLine(BaseModel):
    """A member as the checklist of self-assessments shows them."""

    code: str
    full_name: str
    leader: bool
    assessment: str | None  # the self-assessment's state in the campaign, if it has one


def checklist(session: Session, campaign: Campaign, unit: Unit) -> list[MemberLine]:
    """The unit's active members, leaders first, with their self-assessment's state."""
    state = (
        select(Assessment.state)
        .where(Assessment.campaign_id == campaign.id, Assessment.member_id == Member.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Member.code, Member.full_name, Member.leader, state)
        .where(Member.unit_id == unit.id, Member.status == MemberStatus.active.value)
        .order_by(Member.leader.desc(), Member.code)
    )
    return [
        MemberLine(code=code, full_name=name, leader=leader, assessment=assessed)
        for code, name, leader, assessed in rows
    ]


def reportable_kinds(campaign: Campaign, unit: Unit) -> set[FactKind]:
    """The kinds of fact the unit reports in this campaign (the facts import's rule)."""
    reporter = Reporter(
        UnitKind(unit.kind),
        unit.holds_members,
        unit.id == campaign.owner_id,
        campaign.plan_file.sessions.per,
    )
    return {kind for kind, spec in FACT_KINDS.items() if spec.reported_by(reporter)}


def parse_form_day(text: str, today: dt.date) -> str:
    """A form's date cell: as typed, or today when left empty."""
    return text.strip() or today.isoformat()
