"""The documents' view models: what each template in templates/ shows, typed (dates as dates,
counts as ints), built by campaign/docs.py from the record and rendered by templates/render.py,
which gives a template the model's fields as its names.

    PartyDocument          the heading and footer of every party document (base.html.j2)
    ├── SelfAssessmentForm the blank a member fills in (self_assessment.*)
    ├── Notice             a notice of the ladder, as it was stored when issued (notice.html.j2)
    └── CampaignDocument   a document citing the committee's plan
        ├── UnitPlan         the plan as sent to one grassroots organisation (plan.*)
        ├── ResultReport     an organisation's result report, or the synthesis (report.*)
        └── CommendationList the members and units commended (commendations.*)
    DocumentIndex          the folder's index.html and index.md"""

import datetime as dt

from pydantic import BaseModel


class Issuer(BaseModel):
    """The committee or organisation a document is issued by."""

    name: str


class PartyDocument(BaseModel):
    """What every party document shows around its body: who issues it, its number, place and
    date, its heading and subject, and who receives it (Nơi nhận)."""

    title: str
    issuer: Issuer
    number: str
    place: str
    issued_on: dt.date
    heading: str
    subject: str | None = None
    recipients: list[str]


class SelfAssessmentForm(PartyDocument):
    """The blank self-assessment of a member, or of a member in a leading post."""

    leader: bool
    sections: list[str]


class PlanCitation(BaseModel):
    """The committee's plan as a document cites it."""

    theme: str
    plan_number: str  # "số 120-KH/TU", or "ngày 02/03/2023" for a plan without a number
    period_start: dt.date
    period_end: dt.date


class CampaignDocument(PartyDocument, PlanCitation):
    """A party document citing the committee's plan."""


class UnitPlan(CampaignDocument):
    """The committee's plan as sent to one grassroots organisation, with its own figures."""

    owner_name: str
    unit_name: str
    members: int
    leaders: int
    sessions_rule: str
    implementation_plan_due: dt.date
    self_assessment_due: dt.date
    grassroots_due: dt.date
    branches: list[str]
    # members admitted after the plan's cut-off for new members, not counted: each with why
    excluded: list[str] = []


class TargetRow(BaseModel):
    """A target's line in a report."""

    label: str
    done: int
    eligible: int
    percent: float


class ChartBar(BaseModel):
    """A unit's bar in the synthesis' chart, placed in SVG units."""

    label: str
    y: int
    width: float
    percent: float
    colour: str


class Chart(BaseModel):
    """The synthesis' inline SVG bar chart: each unit's completion, computed, not drawn."""

    left: int
    width: float
    height: int
    bars: list[ChartBar]


class LateItem(BaseModel):
    """An obligation of a unit still late when the report is written, in the report's words."""

    kind: str  # what is owed, named in Vietnamese
    due: dt.date
    state: str  # where it stands, in Vietnamese


class ResultReport(CampaignDocument):
    """A grassroots organisation's result report, or the committee's synthesis with its chart."""

    unit_name: str
    targets: list[TargetRow]
    chart: Chart | None
    late: list[LateItem]


class CommendationRow(BaseModel):
    """A member (or a unit) commended, and the unit it belongs to."""

    name: str
    unit: str


class CommendationList(CampaignDocument):
    """The list of members and units whose commendation was approved."""

    rows: list[CommendationRow]


class UnitName(BaseModel):
    """A unit as a notice names it."""

    code: str
    name: str


class NoticeCampaign(BaseModel):
    """The campaign a notice is about."""

    title: str
    place: str


class NoticeItem(BaseModel):
    """An obligation a notice lists as late."""

    name: str
    window: str | None
    due: dt.date


class NoticeMember(BaseModel):
    """A member a notice lists as not having handed in the self-assessment."""

    code: str
    full_name: str


class Notice(PartyDocument):
    """A notice of the ladder (reminder, overdue, escalation), from the context it was stored
    with when a run issued it."""

    campaign: NoticeCampaign
    step: str
    level: int
    unit: UnitName
    recipient: str  # the code of the unit it is sent to
    recipient_name: str
    items: list[NoticeItem]
    members: list[NoticeMember]


class IndexEntry(BaseModel):
    """A document in the index: its title, its date and its two files (relative paths)."""

    title: str
    day: dt.date
    html: str
    markdown: str


class IndexGroup(BaseModel):
    """A unit's documents in the index (or a folder's: the forms, the campaign's own)."""

    code: str
    name: str
    documents: list[IndexEntry]


class DocumentIndex(BaseModel):
    """The folder's index of every document, grouped by unit."""

    code: str
    title: str
    groups: list[IndexGroup]
