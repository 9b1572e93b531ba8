"""What the console's page of one unit shows: its duties with their due dates, states and place
on the ladder, its members and their self-assessments (leaders marked), the notices addressed to
it, its documents — and each document's print-ready HTML, rendered from the record as
`campaign docs` renders it. The caller has checked the unit lies in the account's subtree
(`web.scope.unit_within`); a stored document is looked up under that unit's path in SQL."""

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from campaign import doc_contents as contents
from campaign.console_views import TreeNode
from campaign.console_words import (
    ASSESSMENT_STATE_NAMES,
    MEMBER_STATUS_NAMES,
    UNIT_KIND_NAMES,
    ladder_step,
    obligation_name,
    obligation_state_name,
)
from campaign.doc_views import PartyDocument, TargetRow
from campaign.status import campaign_status
from campaign.status_cache import kept_status
from models.campaigns import Campaign, get_campaign
from models.casework import Assessment
from models.documents import Document
from models.errors import NotFound
from models.members import Member
from models.obligations import Obligation, ObligationKind
from models.units import Unit, UnitKind, units_under
from templates.render import render


class Crumb(BaseModel):
    """A unit on the way from the account's root to the page's unit."""

    code: str
    name: str


class Duty(BaseModel):
    """One of the unit's own duties (not its members')."""

    name: str
    due: dt.date
    state: str
    state_name: str
    level: int
    ladder: str


class MemberLine(BaseModel):
    """A member of the unit and where their self-assessment stands."""

    code: str
    full_name: str
    position: str
    leader: bool
    status_name: str
    assessment: str  # its state ('' when the campaign set the member none)
    assessment_name: str
    duty_state: str
    duty_state_name: str
    due: dt.date | None
    ladder: str


class NoticeLine(BaseModel):
    """A notice the runs issued to the unit (or copied to it)."""

    id: int
    unit: str  # the unit the document is filed under (the late unit)
    title: str
    number: str
    issued_on: dt.date


class DocumentLink(BaseModel):
    """A document the office opens and prints: its address under the unit, and its title."""

    name: str
    title: str


class UnitPage(BaseModel):
    """A unit's page."""

    code: str
    title: str
    unit: str
    unit_name: str
    kind_name: str
    as_of: dt.date | None
    crumbs: list[Crumb]
    targets: list[TargetRow]
    children: list[TreeNode]
    duties: list[Duty]
    members: list[MemberLine]
    notices: list[NoticeLine]
    documents: list[DocumentLink]


def unit_page(session: Session, code: str, unit: Unit, root_path: str) -> UnitPage:
    """The page of `unit` (inside the subtree at `root_path`) in campaign `code`."""
    campaign = get_campaign(session, code)
    kept = kept_status(session, code)
    figures = kept.units[unit.code]
    below = [kept.units[child] for child in kept.children.get(unit.code, [])]
    return UnitPage(
        code=campaign.code,
        title=campaign.title,
        unit=unit.code,
        unit_name=unit.name,
        kind_name=UNIT_KIND_NAMES.get(unit.kind, unit.kind),  # type: ignore[call-overload]
        as_of=kept.as_of,
        crumbs=_crumbs(session, unit.path, root_path),
        targets=contents.target_rows(figures.targets),
        children=[
            TreeNode(code=u.code, name=u.name, kind=u.kind, targets=u.targets) for u in below
        ],
        duties=_duties(session, campaign.id, unit.id),
        members=_members(session, campaign.id, unit.id),
        notices=_notices(session, campaign.id, unit),
        documents=_documents(campaign, unit),
    )


def _crumbs(session: Session, path: str, root_path: str) -> list[Crumb]:
    """The units from the root (included) down to the unit (excluded)."""
    above = path[len(root_path) - 1 :].strip("/").split("/")[:-1]
    codes = [root_path.strip("/").split("/")[-1], *above] if path != root_path else []
    names = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    return [Crumb(code=c, name=names.get(c, c)) for c in codes]


def _duties(session: Session, campaign_id: int, unit_id: int) -> list[Duty]:
    query = (
        select(
            Obligation.kind,
            Obligation.window,
            Obligation.due,
            Obligation.state,
            Obligation.escalation_level,
        )
        .where(
            Obligation.campaign_id == campaign_id,
            Obligation.unit_id == unit_id,
            Obligation.member_id.is_(None),
        )
        .order_by(Obligation.due, Obligation.kind)
    )
    return [
        Duty(
            name=obligation_name(kind, window or None),
            due=due,
            state=state,
            state_name=obligation_state_name(state),
            level=level,
            ladder=ladder_step(state, level),
        )
        for kind, window, due, state, level in session.execute(query)
    ]


def _members(session: Session, campaign_id: int, unit_id: int) -> list[MemberLine]:
    """The unit's members, leaders first, with their self-assessment and its duty: one query."""
    assessment = and_(Assessment.member_id == Member.id, Assessment.campaign_id == campaign_id)
    duty = and_(
        Obligation.member_id == Member.id,
        Obligation.campaign_id == campaign_id,
        Obligation.kind == ObligationKind.self_assess.value,
    )
    query = (
        select(
            Member, Assessment.state, Obligation.state, Obligation.due, Obligation.escalation_level
        )
        .outerjoin(Assessment, assessment)
        .outerjoin(Obligation, duty)
        .where(Member.unit_id == unit_id)
        .order_by(Member.leader.desc(), Member.code)
    )
    return [_member_line(*row) for row in session.execute(query)]


def _member_line(
    member: Member, assessed: str | None, state: str | None, due: dt.date | None, level: int | None
) -> MemberLine:
    return MemberLine(
        code=member.code,
        full_name=member.full_name,
        position=member.position,
        leader=member.leader,
        status_name=MEMBER_STATUS_NAMES.get(member.status, member.status),  # type: ignore[call-overload]
        assessment=assessed or "",
        assessment_name=ASSESSMENT_STATE_NAMES.get(assessed, "") if assessed else "",  # type: ignore[call-overload]
        duty_state=state or "",
        duty_state_name=obligation_state_name(state) if state else "",
        due=due,
        ladder=ladder_step(state, level or 0) if state else "",
    )


def _notices(session: Session, campaign_id: int, unit: Unit) -> list[NoticeLine]:
    """The notices filed under the unit, and those of the units right under it that are
    addressed to it (an escalation goes to the late unit's parent), newest first. The recipient
    and number are read from the stored context by the database (a district's children file
    hundreds of notices: none is decoded in Python)."""
    recipient = Document.context["recipient"].as_string()
    query = (
        select(
            Document.id,
            Document.title,
            Document.issued_on,
            Document.context["number"].as_string(),
            Unit.code,
        )
        .join(Unit, Unit.id == Document.unit_id)
        .where(
            # `+ 0`: SQLite's planner would otherwise read every notice of the campaign by its
            # campaign index (7 ms at a province) instead of seeking these few units' notices.
            Document.campaign_id + 0 == campaign_id,
            Document.kind.like("notice%"),
            Document.unit_id.in_(  # seeks the documents of these few units
                select(Unit.id)
                .where(or_(Unit.id == unit.id, Unit.parent_id == unit.id))
                .correlate(None)  # its own unit table, not the outer query's
            ),
            or_(Document.unit_id == unit.id, recipient == unit.code),
        )
        .order_by(Document.issued_on.desc(), Document.id.desc())
    )
    return [
        NoticeLine(id=id_, unit=code, title=title, number=str(number or ""), issued_on=issued_on)
        for id_, title, issued_on, number, code in session.execute(query)
    ]


# The documents a unit's page offers besides its notices: address → title, and which units.
_FORMS = {
    "mau-tu-soi-roi-lanh-dao": True,
    "mau-tu-soi-roi-dang-vien": False,
}


def _documents(campaign: Campaign, unit: Unit) -> list[DocumentLink]:
    links = []
    if unit.kind == UnitKind.grassroots:
        links.append(DocumentLink(name="ke-hoach", title="Kế hoạch thực hiện"))
        links.append(DocumentLink(name="bao-cao", title="Báo cáo kết quả"))
    if unit.id == campaign.owner_id:
        links.append(DocumentLink(name="tong-hop", title="Báo cáo tổng hợp"))
    for name, leader in _FORMS.items():
        title = f"Mẫu bản tự soi rọi, tự nhận xét ({contents.FORM_VARIANTS[leader]})"
        links.append(DocumentLink(name=name, title=title))
    return links


def stored_document(session: Session, code: str, unit: Unit, document_id: int) -> str | None:
    """A notice filed under `unit` or a unit below it, as print-ready HTML (None if there is
    no such document there: the subtree is part of the query)."""
    campaign = get_campaign(session, code)
    dialect = session.get_bind().dialect.name
    query = (
        select(Document.title, Document.context)
        .join(Unit, Unit.id == Document.unit_id)
        .where(
            Document.id == document_id,
            Document.campaign_id == campaign.id,
            Document.kind.like("notice%"),
            units_under([unit.path], dialect=dialect),
        )
    )
    found = session.execute(query).first()
    if found is None:
        return None
    return render("notice.html.j2", contents.notice(found.title, found.context))


def document_unit(session: Session, document_id: int) -> str | None:
    """The path of the unit a stored document is filed under (None: no such document)."""
    query = select(Unit.path).join(Document, Document.unit_id == Unit.id)
    return session.scalar(query.where(Document.id == document_id))


def generated_document(session: Session, code: str, unit: Unit, name: str) -> str:
    """A document the unit's page offers by `name` (its plan, report, the synthesis, a blank
    form), rendered from the record as `campaign docs` writes it; NotFound for another name."""
    campaign = get_campaign(session, code)
    plan, owner = campaign.plan_file, session.get_one(Unit, campaign.owner_id)
    if name not in {link.name for link in _documents(campaign, unit)}:
        raise NotFound(f"đơn vị {unit.code} không có văn bản '{name}'")
    if name in _FORMS:
        form = contents.self_assessment_form(plan, owner, _FORMS[name])
        return render("self_assessment.html.j2", form)
    status = campaign_status(session, code, unit.code, branches=name != "tong-hop")
    day = status.as_of or plan.issued_on
    view: PartyDocument
    if name == "ke-hoach":
        view, template = contents.unit_plan(plan, owner, status, status.units[0]), "plan"
    elif name == "bao-cao":
        view, template = contents.unit_report(plan, day, owner, status.units[0]), "report"
    else:
        grassroots = [u for u in status.units if u.kind == UnitKind.grassroots]
        view = contents.synthesis(plan, day, owner, status.targets, grassroots)
        template = "report"
    return render(f"{template}.html.j2", view)
