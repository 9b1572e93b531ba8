"""What each document of a campaign says: its view model (campaign/doc_views.py) built from the
plan, the campaign's status and a stored notice's context. Plain functions, no file and no
query: campaign/docs.py reads the record, calls them and writes the files."""

import datetime as dt
from typing import Any

from campaign.doc_views import (
    Chart,
    ChartBar,
    CommendationList,
    CommendationRow,
    Issuer,
    LateItem,
    Notice,
    PlanCitation,
    ResultReport,
    SelfAssessmentForm,
    TargetRow,
    UnitPlan,
)
from campaign.notices import LADDER_TITLES, OBLIGATION_NAMES
from models.obligations import ObligationKind, TargetName
from models.plans import Cadence, PlanFile
from models.units import Unit
from models.views import CampaignStatus, Targets, UnitStatus
from states.obligation import LATE, ObligationState


def notice(title: str, stored: dict[str, Any]) -> Notice:
    """A stored notice as a print-ready party document (A4). A notice stored before the
    register has no number (the office writes it in); one stored before names were kept names
    its addressees by code."""
    recipient_name = str(stored.get("recipient_name", stored["recipient"]))
    campaign = stored["campaign"]
    return Notice.model_validate(
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


FORM_VARIANTS = {True: "đảng viên giữ chức vụ lãnh đạo, quản lý", False: "đảng viên"}


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


def self_assessment_form(plan: PlanFile, owner: Unit, leader: bool) -> SelfAssessmentForm:
    """The blank self-assessment of a member, or of a member in a leading post."""
    return SelfAssessmentForm(
        title=f"Bản tự soi rọi — {FORM_VARIANTS[leader]}",
        issuer=Issuer(name=owner.name),
        number="…",
        place=plan.place,
        issued_on=plan.issued_on,
        heading="Bản tự soi rọi, tự nhận xét",
        subject=f"Đợt sinh hoạt chính trị “{plan.title}” ({FORM_VARIANTS[leader]})",
        leader=leader,
        sections=_SECTIONS[leader],
        recipients=["Chi bộ"],
    )


def _citation(plan: PlanFile) -> dict[str, Any]:
    """The fields of a `PlanCitation` of `plan`, for a `CampaignDocument` to take."""
    number = f"số {plan.number}" if plan.number else f"ngày {plan.issued_on:%d/%m/%Y}"
    citation = PlanCitation(
        theme=plan.title,
        plan_number=number,
        period_start=plan.period.start,
        period_end=plan.period.end,
    )
    return dict(citation)


def unit_plan(plan: PlanFile, owner: Unit, status: CampaignStatus, unit: UnitStatus) -> UnitPlan:
    """The committee's plan as sent to one grassroots organisation, with its own figures."""
    rule = plan.sessions
    cadence = "mỗi quý" if rule.cadence == Cadence.quarter else "trong thời gian của đợt"
    return UnitPlan(
        **_citation(plan),
        title=f"Kế hoạch — {unit.name}",
        issuer=Issuer(name=owner.name),
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
        excluded=_excluded(plan, status, unit),
        recipients=[unit.name],
    )


def _excluded(plan: PlanFile, status: CampaignStatus, unit: UnitStatus) -> list[str]:
    """The members of `unit` or its branches the plan's cut-off left out, and why."""
    names = {u.code: u.name for u in status.units if unit.code in (u.code, u.parent)}
    return [
        f"{e.name} ({names[e.unit]}): kết nạp ngày {e.joined:%d/%m/%Y}, sau ngày "
        f"{plan.new_members_until:%d/%m/%Y} kế hoạch quy định, không tính vào chỉ tiêu"
        for e in status.excluded
        if e.unit in names
    ]


_REPORT_NUMBER = "…-BC"  # the office numbers a report when it signs it


# How a report says where a late obligation stands.
LATE_WORDS = {
    ObligationState.overdue: "quá hạn, đã có công văn đôn đốc",
    ObligationState.escalated: "quá hạn, đã báo cáo cấp trên",
}


def unit_report(plan: PlanFile, day: dt.date, owner: Unit, unit: UnitStatus) -> ResultReport:
    """A grassroots organisation's result report, listing what it still has late."""
    late = [
        LateItem(
            kind=OBLIGATION_NAMES[ObligationKind(o.kind)],
            due=o.due,
            state=LATE_WORDS[ObligationState(o.state)],
        )
        for o in unit.obligations
        if o.state in LATE
    ]
    return ResultReport(
        **_citation(plan),
        title=f"Báo cáo kết quả — {unit.name}",
        issuer=Issuer(name=unit.name),
        number=_REPORT_NUMBER,
        place=plan.place,
        issued_on=day,
        heading="Báo cáo kết quả đợt sinh hoạt chính trị",
        unit_name=unit.name,
        targets=target_rows(unit.targets),
        chart=None,
        late=late,
        recipients=[owner.name],
    )


def synthesis(
    plan: PlanFile, day: dt.date, owner: Unit, targets: Targets, grassroots: list[UnitStatus]
) -> ResultReport:
    """The committee's synthesis: its targets, and a chart of its grassroots organisations."""
    return ResultReport(
        **_citation(plan),
        title=f"Báo cáo tổng hợp — {owner.name}",
        issuer=Issuer(name=owner.name),
        number=_REPORT_NUMBER,
        place=plan.place,
        issued_on=day,
        heading="Báo cáo tổng hợp kết quả đợt sinh hoạt chính trị",
        unit_name=owner.name,
        targets=target_rows(targets),
        chart=completion_chart(grassroots),
        late=[],
        recipients=["Ban Thường vụ", "Ban Tuyên giáo cấp trên"],
    )


TARGET_LABELS = {
    TargetName.members_self_assessed: "Đảng viên tự soi rọi, tự nhận xét",
    TargetName.leaders_self_assessed: "Đảng viên lãnh đạo, quản lý tự soi rọi, tự nhận xét",
    TargetName.branches_with_sessions: "Chi bộ tổ chức sinh hoạt chuyên đề",
}


def target_rows(targets: Targets) -> list[TargetRow]:
    """The three targets, each with its Vietnamese label (a report's table, the console's
    cards)."""
    return [
        TargetRow(label=label, **getattr(targets, name).model_dump())
        for name, label in TARGET_LABELS.items()
    ]


def completion_chart(units: list[UnitStatus]) -> Chart:
    """An inline SVG bar chart of each unit's completion (members self-assessed), computed
    here, drawn by the page: the synthesis' and the console's dashboard's."""
    left, scale = 290, 2.5
    bars = [
        ChartBar(
            label=f"{u.code} {u.name}"[:52],
            y=6 + 20 * i,
            width=round(scale * u.targets.members_self_assessed.percent, 1),
            percent=u.targets.members_self_assessed.percent,
            colour="#2e7d32" if u.targets.members_self_assessed.percent >= 100 else "#c62828",
        )
        for i, u in enumerate(units)
    ]
    return Chart(left=left, width=left + 100 * scale + 60, height=12 + 20 * len(units), bars=bars)


def commendation_list(
    plan: PlanFile, day: dt.date, owner: Unit, rows: list[CommendationRow]
) -> CommendationList:
    """The list of the commendations approved, by unit."""
    return CommendationList(
        **_citation(plan),
        title="Danh sách biểu dương",
        issuer=Issuer(name=owner.name),
        number=_REPORT_NUMBER,
        place=plan.place,
        issued_on=day,
        heading="Danh sách biểu dương, khen thưởng",
        rows=rows,
        recipients=["Các chi, đảng bộ trực thuộc"],
    )
