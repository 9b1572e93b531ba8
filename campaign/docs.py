"""Writing a campaign's issued documents to a folder an office can browse: one folder per unit,
each notice as the Markdown the engine stored when it issued it and as print-ready HTML, and
two indexes: index.html (for a browser) and index.md.

Every document is rendered from its view model (campaign/doc_views.py), built here from the
record."""

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import doc_views as doc
from campaign.exports import inside
from campaign.notices import LADDER_TITLES
from campaign.status import campaign_status
from models.bulk import in_lists
from models.campaigns import Campaign, get_campaign
from models.casework import Commendation
from models.documents import Document
from models.members import Member
from models.obligations import TargetName
from models.plans import Cadence, PlanFile
from models.units import Unit
from models.views import CampaignStatus, Targets, UnitStatus
from states.commendation import CommendationState
from states.obligation import LATE
from templates.render import render


class _Entry(NamedTuple):
    """A document in the index: its title, its date and its HTML file (its Markdown beside)."""

    title: str
    day: dt.date
    path: Path


Listed = dict[str, list[_Entry]]  # unit code (or folder) -> its documents, in order


class Written(Protocol):
    """Follows the writing (the CLI's progress bar): called after each issued document with how
    many are written and how many there are."""

    def __call__(self, done: int, total: int) -> None: ...


def write_documents(
    session: Session, code: str, out: Path, written_so_far: Written | None = None
) -> list[Path]:
    """Write every stored document of campaign `code` under `out`; returns the files written."""
    campaign = get_campaign(session, code)
    by_unit: Listed = defaultdict(list)
    written = _write_notices(session, campaign, out, by_unit, written_so_far)
    owner = session.get_one(Unit, campaign.owner_id)
    written += _write_forms(out, campaign.plan_file, owner, by_unit)
    written += _reports(session, campaign, owner, out, by_unit)
    written += _indexes(session, out, campaign, by_unit)
    return written


def _write_notices(
    session: Session,
    campaign: Campaign,
    out: Path,
    by_unit: Listed,
    written_so_far: Written | None,
) -> list[Path]:
    """Every notice the runs stored: its Markdown as stored, and its print-ready HTML."""
    issued = select(func.count()).where(Document.campaign_id == campaign.id)
    total = session.scalar(issued) or 0
    query = (
        select(
            Document.key,
            Document.title,
            Document.issued_on,
            Document.markdown,
            Document.context,
            Unit.code,
        )
        .outerjoin(Unit, Unit.id == Document.unit_id)
        .where(Document.campaign_id == campaign.id)
        .order_by(Document.issued_on, Unit.path, Document.key)
    )
    written: list[Path] = []
    for key, title, issued_on, markdown, context, unit in session.execute(query):
        folder = inside(out, unit or campaign.code)
        folder.mkdir(parents=True, exist_ok=True)
        # notice:UNIT:STEP:LEVEL:DATE → 2023-05-20-overdue-0.md (unique per unit and day)
        step = key.split(":", 2)[-1].rsplit(":", 1)[0].replace(":", "-")
        path = inside(folder, f"{issued_on:%Y-%m-%d}-{step}.md")
        path.write_text(markdown, encoding="utf-8")
        html = path.with_suffix(".html")
        html.write_text(render("notice.html.j2", _notice(title, context)), encoding="utf-8")
        written.append(html)
        by_unit[unit or campaign.code].append(_Entry(title, issued_on, html))
        if written_so_far is not None:
            written_so_far(len(written), total)
    return written


def _notice(title: str, stored: dict[str, Any]) -> doc.Notice:
    """A stored notice as a print-ready party document (A4). A notice stored before the
    register has no number (the office writes it in); one stored before names were kept names
    its addressees by code."""
    recipient_name = str(stored.get("recipient_name", stored["recipient"]))
    campaign = stored["campaign"]
    return doc.Notice.model_validate(
        {
            **stored,
            "title": title,
            "heading": LADDER_TITLES.get(stored["step"], title.split(" — ")[0]),
            "subject": f"V/v thực hiện đợt sinh hoạt chính trị “{campaign['title']}”",
            "number": stored.get("number", "…-CV"),
            "place": campaign["place"],
            "recipient_name": recipient_name,
            "recipients": [recipient_name, *stored.get("copied_names", stored["copied"])],
        }
    )


_VARIANT = {True: "đảng viên giữ chức vụ lãnh đạo, quản lý", False: "đảng viên"}
_FORM_FILE = {True: "tu-soi-roi-lanh-dao.html", False: "tu-soi-roi-dang-vien.html"}
# The sections each variant of the self-assessment holds, as the seed plans word them.
_SECTIONS = {
    True: [
        "Kết quả thực hiện lời tuyên thệ trước cờ Đảng",
        "Kết quả thực hiện lời hứa khi được đề bạt, bổ nhiệm, ứng cử Đại biểu Hội đồng nhân dân",
        "Hành trình tự soi, tự sửa của bản thân",
        "Giải pháp phát huy hiệu quả năng lực lãnh đạo, quản lý, đáp ứng yêu cầu nhiệm vụ",
    ],
    False: [
        "Kết quả rèn luyện, phấn đấu, thực hiện lời thề",
        "Hành trình tự soi, tự sửa của bản thân",
        "Giải pháp khắc phục hạn chế, khuyết điểm, hoàn thành tốt hơn nhiệm vụ được giao",
    ],
}


def _write_forms(out: Path, plan: PlanFile, owner: Unit, by_unit: Listed) -> list[Path]:
    """The blank self-assessments: a leader's, then a member's."""
    written = []
    for leader in (True, False):
        form = _form(plan, owner, leader)
        path = _write(inside(out, "bieu-mau", _FORM_FILE[leader]), "self_assessment.html.j2", form)
        title = f"Bản tự soi rọi, tự nhận xét ({_VARIANT[leader]})"
        by_unit["bieu-mau"].append(_Entry(title, plan.issued_on, path))
        written.append(path)
    return written


def _form(plan: PlanFile, owner: Unit, leader: bool) -> doc.SelfAssessmentForm:
    return doc.SelfAssessmentForm(
        title=f"Bản tự soi rọi — {_VARIANT[leader]}",
        issuer=doc.Issuer(name=owner.name),
        number="…",
        place=plan.place,
        issued_on=plan.issued_on,
        heading="Bản tự soi rọi, tự nhận xét",
        subject=f"Đợt sinh hoạt chính trị “{plan.title}” ({_VARIANT[leader]})",
        leader=leader,
        sections=_SECTIONS[leader],
        recipients=["Chi bộ"],
    )


def _reports(
    session: Session, campaign: Campaign, owner: Unit, out: Path, by_unit: Listed
) -> list[Path]:
    """Each grassroots organisation's plan and result report, the committee's synthesis with
    its chart, and the commendation list; every figure read from `campaign_status`."""
    status = campaign_status(session, campaign.code)
    plan = campaign.plan_file
    day = status.as_of or plan.issued_on
    grassroots = [u for u in status.units if u.kind == "grassroots"]
    written: list[Path] = []
    for unit in grassroots:
        view = _unit_plan(plan, owner, status, unit)
        path = _write(inside(out, unit.code, "ke-hoach-thuc-hien.html"), "plan.html.j2", view)
        by_unit[unit.code].append(_Entry(view.heading, plan.issued_on, path))
        written.append(path)
    for unit in grassroots:
        report = _unit_report(plan, day, owner, unit)
        path = _write(inside(out, unit.code, "bao-cao-ket-qua.html"), "report.html.j2", report)
        by_unit[unit.code].append(_Entry("Báo cáo kết quả", day, path))
        written.append(path)
    synthesis = _write(
        inside(out, owner.code, "bao-cao-tong-hop.html"),
        "report.html.j2",
        _synthesis(plan, day, owner, status.targets, grassroots),
    )
    by_unit[owner.code].append(_Entry("Báo cáo tổng hợp", day, synthesis))
    praise = _write(
        inside(out, owner.code, "danh-sach-bieu-duong.html"),
        "commendations.html.j2",
        _commendations(plan, day, owner, _commended(session, campaign.id)),
    )
    by_unit[owner.code].append(_Entry("Danh sách biểu dương, khen thưởng", day, praise))
    return [*written, synthesis, praise]


def _citation(plan: PlanFile) -> dict[str, Any]:
    """The fields of a `PlanCitation` of `plan`, for a `CampaignDocument` to take."""
    number = f"số {plan.number}" if plan.number else f"ngày {plan.issued_on:%d/%m/%Y}"
    citation = doc.PlanCitation(
        theme=plan.title,
        plan_number=number,
        period_start=plan.period.start,
        period_end=plan.period.end,
    )
    return dict(citation)


def _unit_plan(
    plan: PlanFile, owner: Unit, status: CampaignStatus, unit: UnitStatus
) -> doc.UnitPlan:
    """The committee's plan as sent to one grassroots organisation, with its own figures."""
    rule = plan.sessions
    cadence = "mỗi quý" if rule.cadence == Cadence.quarter else "trong thời gian của đợt"
    return doc.UnitPlan(
        **_citation(plan),
        title=f"Kế hoạch — {unit.name}",
        issuer=doc.Issuer(name=owner.name),
        number=plan.number or "…-KH",
        place=plan.place,
        issued_on=plan.issued_on,
        heading="Kế hoạch tổ chức đợt sinh hoạt chính trị",
        subject=f"Gửi {unit.name}",
        owner_name=owner.name,
        unit_name=unit.name,
        members=unit.targets.members_self_assessed.eligible,
        leaders=unit.targets.leaders_self_assessed.eligible,
        sessions_rule=f"tối thiểu {rule.minimum} buổi {cadence}",
        implementation_plan_due=plan.implementation_plan_due,
        self_assessment_due=plan.self_assessment_due or plan.period.end,
        grassroots_due=plan.reports.grassroots_due,
        branches=[u.name for u in status.units if u.parent == unit.code],
        recipients=[unit.name],
    )


_REPORT_NUMBER = "…-BC"  # the office numbers a report when it signs it


def _unit_report(plan: PlanFile, day: dt.date, owner: Unit, unit: UnitStatus) -> doc.ResultReport:
    """A grassroots organisation's result report, listing what it still has late."""
    late = [
        doc.LateItem(kind=o.kind, due=o.due, state=o.state)
        for o in unit.obligations
        if o.state in LATE
    ]
    return doc.ResultReport(
        **_citation(plan),
        title=f"Báo cáo kết quả — {unit.name}",
        issuer=doc.Issuer(name=unit.name),
        number=_REPORT_NUMBER,
        place=plan.place,
        issued_on=day,
        heading="Báo cáo kết quả đợt sinh hoạt chính trị",
        unit_name=unit.name,
        targets=_target_rows(unit.targets),
        chart=None,
        late=late,
        recipients=[owner.name],
    )


def _synthesis(
    plan: PlanFile, day: dt.date, owner: Unit, targets: Targets, grassroots: list[UnitStatus]
) -> doc.ResultReport:
    """The committee's synthesis: its targets, and a chart of its grassroots organisations."""
    return doc.ResultReport(
        **_citation(plan),
        title=f"Báo cáo tổng hợp — {owner.name}",
        issuer=doc.Issuer(name=owner.name),
        number=_REPORT_NUMBER,
        place=plan.place,
        issued_on=day,
        heading="Báo cáo tổng hợp kết quả đợt sinh hoạt chính trị",
        unit_name=owner.name,
        targets=_target_rows(targets),
        chart=_chart(grassroots),
        late=[],
        recipients=["Ban Thường vụ", "Ban Tuyên giáo cấp trên"],
    )


TARGET_LABELS = {
    TargetName.members_self_assessed: "Đảng viên tự soi rọi, tự nhận xét",
    TargetName.leaders_self_assessed: "Đảng viên lãnh đạo, quản lý tự soi rọi, tự nhận xét",
    TargetName.branches_with_sessions: "Chi bộ tổ chức sinh hoạt chuyên đề",
}


def _target_rows(targets: Targets) -> list[doc.TargetRow]:
    return [
        doc.TargetRow(label=label, **getattr(targets, name).model_dump())
        for name, label in TARGET_LABELS.items()
    ]


def _chart(units: list[UnitStatus]) -> doc.Chart:
    """An inline SVG bar chart of each unit's completion, computed here, drawn by the page."""
    left, scale = 290, 2.5
    bars = [
        doc.ChartBar(
            label=f"{u.code} {u.name}"[:52],
            y=6 + 20 * i,
            width=round(scale * u.targets.members_self_assessed.percent, 1),
            percent=u.targets.members_self_assessed.percent,
            colour="#2e7d32" if u.targets.members_self_assessed.percent >= 100 else "#c62828",
        )
        for i, u in enumerate(units)
    ]
    return doc.Chart(
        left=left, width=left + 100 * scale + 60, height=12 + 20 * len(units), bars=bars
    )


def _commendations(
    plan: PlanFile, day: dt.date, owner: Unit, rows: list[doc.CommendationRow]
) -> doc.CommendationList:
    """The list of the commendations approved, by unit."""
    return doc.CommendationList(
        **_citation(plan),
        title="Danh sách biểu dương",
        issuer=doc.Issuer(name=owner.name),
        number=_REPORT_NUMBER,
        place=plan.place,
        issued_on=day,
        heading="Danh sách biểu dương, khen thưởng",
        rows=rows,
        recipients=["Các chi, đảng bộ trực thuộc"],
    )


def _commended(session: Session, campaign_id: int) -> list[doc.CommendationRow]:
    query = (
        select(Member.full_name, Unit.name)
        .select_from(Commendation)
        .join(Unit, Unit.id == Commendation.unit_id)
        .outerjoin(Member, Member.id == Commendation.member_id)
        .where(
            Commendation.campaign_id == campaign_id,
            Commendation.state == CommendationState.approved,
        )
        .order_by(Unit.path, Member.full_name)
    )
    return [
        doc.CommendationRow(name=member or unit, unit=unit)
        for member, unit in session.execute(query)
    ]


def _write(path: Path, template: str, view: doc.PartyDocument) -> Path:
    """Write a document as print-ready HTML, and as Markdown beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(template, view), encoding="utf-8")
    markdown = template.replace(".html.j2", ".md.j2")
    path.with_suffix(".md").write_text(render(markdown, view), encoding="utf-8")
    return path


def _indexes(session: Session, out: Path, campaign: Campaign, by_unit: Listed) -> list[Path]:
    """The indexes of the folder: index.html linking the HTML documents (what an office opens
    in a browser) and index.md linking the Markdown ones, grouped by unit."""
    query = select(Unit.code, Unit.name)
    names = {
        code: name
        for statement in in_lists(query, Unit.code, by_unit)
        for code, name in session.execute(statement)
    }
    names.update({"bieu-mau": "Biểu mẫu", campaign.code: campaign.title})
    groups = [
        doc.IndexGroup(
            code=code,
            name=names.get(code, code),
            documents=[_index_entry(out, entry) for entry in entries],
        )
        for code, entries in sorted(by_unit.items())
    ]
    index = doc.DocumentIndex(code=campaign.code, title=campaign.title, groups=groups)
    out.mkdir(parents=True, exist_ok=True)
    html = inside(out, "index.html")
    html.write_text(render("index.html.j2", index), encoding="utf-8")
    markdown = inside(out, "index.md")
    markdown.write_text(render("index.md.j2", index), encoding="utf-8")
    return [html, markdown]


def _index_entry(out: Path, entry: _Entry) -> doc.IndexEntry:
    return doc.IndexEntry(
        title=entry.title,
        day=entry.day,
        html=entry.path.relative_to(out).as_posix(),
        markdown=entry.path.with_suffix(".md").relative_to(out).as_posix(),
    )
