"""Writing a campaign's issued documents to a folder an office can browse: one folder per unit,
each notice as the Markdown the engine stored when it issued it and as print-ready HTML, and
two indexes: index.html (for a browser) and index.md."""

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.exports import inside
from campaign.notices import STEP_TITLES
from campaign.status import campaign_status
from models.bulk import in_lists
from models.campaigns import Campaign, get_campaign
from models.casework import Commendation
from models.documents import Document
from models.members import Member
from models.plans import PlanFile
from models.units import Unit
from models.views import CampaignStatus, Targets, UnitStatus
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
    by_unit: Listed = defaultdict(list)
    for key, title, issued_on, markdown, context, unit in session.execute(query):
        folder = inside(out, unit or campaign.code)
        folder.mkdir(parents=True, exist_ok=True)
        # notice:UNIT:STEP:LEVEL:DATE → 2023-05-20-overdue-0.md (unique per unit and day)
        step = key.split(":", 2)[-1].rsplit(":", 1)[0].replace(":", "-")
        path = inside(folder, f"{issued_on:%Y-%m-%d}-{step}.md")
        path.write_text(markdown, encoding="utf-8")
        html = path.with_suffix(".html")
        html.write_text(_notice_html(title, context), encoding="utf-8")
        written.append(html)
        by_unit[unit or campaign.code].append(_Entry(title, issued_on, html))
        if written_so_far is not None:
            written_so_far(len(written), total)
    plan = campaign.plan_file
    owner = session.get_one(Unit, campaign.owner_id)
    for leader in (True, False):
        path = _form(out, plan.title, plan.place, plan.issued_on.isoformat(), owner.name, leader)
        written.append(path)
        title = f"Bản tự soi rọi, tự nhận xét ({_VARIANT[leader]})"
        by_unit["bieu-mau"].append(_Entry(title, plan.issued_on, path))
    written += _reports(session, campaign, owner, out, by_unit)
    written += _indexes(session, out, campaign, by_unit)
    return written


TARGET_LABELS = {
    "members_self_assessed": "Đảng viên tự soi rọi, tự nhận xét",
    "leaders_self_assessed": "Đảng viên lãnh đạo, quản lý tự soi rọi, tự nhận xét",
    "branches_with_sessions": "Chi bộ tổ chức sinh hoạt chuyên đề",
}


def _targets_view(targets: Targets) -> list[dict[str, Any]]:
    data = targets.model_dump()
    return [{"label": label, **data[name]} for name, label in TARGET_LABELS.items()]


def _chart(units: list[UnitStatus]) -> dict[str, Any]:
    """An inline SVG bar chart of each unit's completion, computed here, drawn by the page."""
    left, scale = 290, 2.5
    bars = [
        {
            "label": f"{u.code} {u.name}"[:52],
            "y": 6 + 20 * i,
            "width": round(scale * u.targets.members_self_assessed.percent, 1),
            "percent": u.targets.members_self_assessed.percent,
            "colour": "#2e7d32" if u.targets.members_self_assessed.percent >= 100 else "#c62828",
        }
        for i, u in enumerate(units)
    ]
    return {
        "left": left,
        "width": left + 100 * scale + 60,
        "height": 12 + 20 * len(units),
        "bars": bars,
    }


def _reports(
    session: Session,
    campaign: Campaign,
    owner: Unit,
    out: Path,
    by_unit: Listed,
) -> list[Path]:
    """Each grassroots organisation's result report, the committee's synthesis with its chart,
    and the commendation list; every figure read from `campaign_status`."""
    status = campaign_status(session, campaign.code)
    plan = campaign.plan_file
    day = (status.as_of or plan.issued_on).isoformat()
    common = {
        "theme": plan.title,
        "plan_number": f"số {plan.number}" if plan.number else f"ngày {plan.issued_on:%d/%m/%Y}",
        "place": plan.place,
        "issued_on": day,
        "period_start": plan.period.start.isoformat(),
        "period_end": plan.period.end.isoformat(),
        "number": "…-BC",
    }
    grassroots = [u for u in status.units if u.kind == "grassroots"]
    written = [_plan_for(out, common, plan, owner, status, unit, by_unit) for unit in grassroots]
    for unit in grassroots:
        late = [
            f"{o.kind} (hạn {o.due:%d/%m/%Y}): {o.state}"
            for o in unit.obligations
            if o.state in ("overdue", "escalated")
        ]
        path = _write(
            inside(out, unit.code, "bao-cao-ket-qua.html"),
            "report.html.j2",
            {
                **common,
                "title": f"Báo cáo kết quả — {unit.name}",
                "issuer": {"name": unit.name},
                "unit_name": unit.name,
                "heading": "Báo cáo kết quả đợt sinh hoạt chính trị",
                "subject": None,
                "targets": _targets_view(unit.targets),
                "chart": None,
                "late": late,
                "recipients": [owner.name],
            },
        )
        by_unit[unit.code].append(_Entry("Báo cáo kết quả", dt.date.fromisoformat(day), path))
        written.append(path)
    synthesis = _write(
        inside(out, owner.code, "bao-cao-tong-hop.html"),
        "report.html.j2",
        {
            **common,
            "title": f"Báo cáo tổng hợp — {owner.name}",
            "issuer": {"name": owner.name},
            "unit_name": owner.name,
            "heading": "Báo cáo tổng hợp kết quả đợt sinh hoạt chính trị",
            "subject": None,
            "targets": _targets_view(status.targets),
            "chart": _chart(grassroots),
            "late": [],
            "recipients": ["Ban Thường vụ", "Ban Tuyên giáo cấp trên"],
        },
    )
    as_of = dt.date.fromisoformat(day)
    by_unit[owner.code].append(_Entry("Báo cáo tổng hợp", as_of, synthesis))
    praise = _write(
        inside(out, owner.code, "danh-sach-bieu-duong.html"),
        "commendations.html.j2",
        {
            **common,
            "title": "Danh sách biểu dương",
            "issuer": {"name": owner.name},
            "heading": "Danh sách biểu dương, khen thưởng",
            "subject": None,
            "rows": _commended(session, campaign.id),
            "recipients": ["Các chi, đảng bộ trực thuộc"],
        },
    )
    by_unit[owner.code].append(_Entry("Danh sách biểu dương, khen thưởng", as_of, praise))
    return [*written, synthesis, praise]


def _plan_for(
    out: Path,
    common: dict[str, Any],
    plan: PlanFile,
    owner: Unit,
    status: CampaignStatus,
    unit: UnitStatus,
    by_unit: Listed,
) -> Path:
    """The committee's plan as sent to one grassroots organisation, with its own figures."""
    rule = plan.sessions
    cadence = "mỗi quý" if rule.cadence.value == "quarter" else "trong thời gian của đợt"
    path = _write(
        inside(out, unit.code, "ke-hoach-thuc-hien.html"),
        "plan.html.j2",
        {
            **common,
            "title": f"Kế hoạch — {unit.name}",
            "issuer": {"name": owner.name},
            "heading": "Kế hoạch tổ chức đợt sinh hoạt chính trị",
            "subject": f"Gửi {unit.name}",
            "number": plan.number or "…-KH",
            "place": plan.place,
            "issued_on": plan.issued_on.isoformat(),
            "owner_name": owner.name,
            "unit_name": unit.name,
            "members": unit.targets.members_self_assessed.eligible,
            "leaders": unit.targets.leaders_self_assessed.eligible,
            "sessions_rule": f"tối thiểu {rule.minimum} buổi {cadence}",
            "implementation_plan_due": plan.implementation_plan_due.isoformat(),
            "self_assessment_due": (plan.self_assessment_due or plan.period.end).isoformat(),
            "grassroots_due": plan.reports.grassroots_due.isoformat(),
            "branches": [u.name for u in status.units if u.parent == unit.code],
            "recipients": [unit.name],
        },
    )
    title = "Kế hoạch tổ chức đợt sinh hoạt chính trị"
    by_unit[unit.code].append(_Entry(title, plan.issued_on, path))
    return path


def _commended(session: Session, campaign_id: int) -> list[dict[str, str]]:
    query = (
        select(Member.full_name, Unit.name)
        .select_from(Commendation)
        .join(Unit, Unit.id == Commendation.unit_id)
        .outerjoin(Member, Member.id == Commendation.member_id)
        .where(Commendation.campaign_id == campaign_id, Commendation.state == "approved")
        .order_by(Unit.path, Member.full_name)
    )
    return [{"name": member or unit, "unit": unit} for member, unit in session.execute(query)]


def _write(path: Path, template: str, context: dict[str, Any]) -> Path:
    """Write a document as print-ready HTML, and as Markdown beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(template, context), encoding="utf-8")
    markdown = template.replace(".html.j2", ".md.j2")
    path.with_suffix(".md").write_text(render(markdown, context), encoding="utf-8")
    return path


def _notice_html(title: str, context: dict[str, Any]) -> str:
    """A stored notice as a print-ready party document (A4)."""
    heading = STEP_TITLES.get(context["step"], title.split(" — ")[0])
    return render(
        "notice.html.j2",
        {
            **context,
            "title": title,
            "heading": heading,
            "subject": f"V/v thực hiện đợt sinh hoạt chính trị “{context['campaign']['title']}”",
            # Notices stored before the register have no number: the office writes it in.
            "number": context.get("number", "…-CV"),
            "place": context["campaign"]["place"],
            "recipient_name": _recipient_name(context),
            "recipients": [_recipient_name(context), *_copied_names(context)],
        },
    )


def _recipient_name(context: dict[str, Any]) -> str:
    """Who the notice is sent to, by name (by code for a notice stored before names were)."""
    return str(context.get("recipient_name", context["recipient"]))


def _copied_names(context: dict[str, Any]) -> list[str]:
    """Who the notice is copied to, by name (by code for a notice stored before names were)."""
    return list(context.get("copied_names", context["copied"]))


_VARIANT = {True: "đảng viên giữ chức vụ lãnh đạo, quản lý", False: "đảng viên"}
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


def _form(out: Path, theme: str, place: str, issued_on: str, issuer: str, leader: bool) -> Path:
    name = "tu-soi-roi-lanh-dao.html" if leader else "tu-soi-roi-dang-vien.html"
    return _write(
        inside(out, "bieu-mau", name),
        "self_assessment.html.j2",
        {
            "title": f"Bản tự soi rọi — {_VARIANT[leader]}",
            "issuer": {"name": issuer},
            "number": "…",
            "place": place,
            "issued_on": issued_on,
            "heading": "Bản tự soi rọi, tự nhận xét",
            "subject": f"Đợt sinh hoạt chính trị “{theme}” ({_VARIANT[leader]})",
            "leader": leader,
            "sections": _SECTIONS[leader],
            "recipients": ["Chi bộ"],
        },
    )


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
        {
            "code": code,
            "name": names.get(code, code),
            "documents": [
                {
                    "title": e.title,
                    "day": e.day,
                    "html": e.path.relative_to(out).as_posix(),
                    "markdown": e.path.with_suffix(".md").relative_to(out).as_posix(),
                }
                for e in entries
            ],
        }
        for code, entries in sorted(by_unit.items())
    ]
    context = {"code": campaign.code, "title": campaign.title, "groups": groups}
    out.mkdir(parents=True, exist_ok=True)
    html = inside(out, "index.html")
    html.write_text(render("index.html.j2", context), encoding="utf-8")
    markdown = inside(out, "index.md")
    markdown.write_text(render("index.md.j2", context), encoding="utf-8")
    return [html, markdown]
