"""Writing a campaign's issued documents to a folder an office can browse: one folder per unit,
each notice as the Markdown the engine stored when it issued it and as print-ready HTML, and
two indexes: index.html (for a browser) and index.md.

Every document is rendered from its view model (campaign/doc_views.py), built from the record by
campaign/doc_contents.py."""

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import doc_contents as contents
from campaign.doc_views import CommendationRow, DocumentIndex, IndexEntry, IndexGroup, PartyDocument
from campaign.exports import inside
from campaign.status import campaign_status
from models.bulk import in_lists
from models.campaigns import Campaign, get_campaign
from models.casework import Commendation
from models.documents import Document
from models.members import Member
from models.plans import PlanFile
from models.units import Unit
from states.commendation import CommendationState
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
        html.write_text(render("notice.html.j2", contents.notice(title, context)), encoding="utf-8")
        written.append(html)
        by_unit[unit or campaign.code].append(_Entry(title, issued_on, html))
        if written_so_far is not None:
            written_so_far(len(written), total)
    return written


_FORM_FILE = {True: "tu-soi-roi-lanh-dao.html", False: "tu-soi-roi-dang-vien.html"}


def _write_forms(out: Path, plan: PlanFile, owner: Unit, by_unit: Listed) -> list[Path]:
    """The blank self-assessments: a leader's, then a member's."""
    written = []
    for leader in (True, False):
        form = contents.self_assessment_form(plan, owner, leader)
        path = _write(inside(out, "bieu-mau", _FORM_FILE[leader]), "self_assessment.html.j2", form)
        title = f"Bản tự soi rọi, tự nhận xét ({contents.FORM_VARIANTS[leader]})"
        by_unit["bieu-mau"].append(_Entry(title, plan.issued_on, path))
        written.append(path)
    return written


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
        view = contents.unit_plan(plan, owner, status, unit)
        path = _write(inside(out, unit.code, "ke-hoach-thuc-hien.html"), "plan.html.j2", view)
        by_unit[unit.code].append(_Entry(view.heading, plan.issued_on, path))
        written.append(path)
    for unit in grassroots:
        report = contents.unit_report(plan, day, owner, unit)
        path = _write(inside(out, unit.code, "bao-cao-ket-qua.html"), "report.html.j2", report)
        by_unit[unit.code].append(_Entry("Báo cáo kết quả", day, path))
        written.append(path)
    synthesis = _write(
        inside(out, owner.code, "bao-cao-tong-hop.html"),
        "report.html.j2",
        contents.synthesis(plan, day, owner, status.targets, grassroots),
    )
    by_unit[owner.code].append(_Entry("Báo cáo tổng hợp", day, synthesis))
    praise = _write(
        inside(out, owner.code, "danh-sach-bieu-duong.html"),
        "commendations.html.j2",
        contents.commendation_list(plan, day, owner, _commended(session, campaign.id)),
    )
    by_unit[owner.code].append(_Entry("Danh sách biểu dương, khen thưởng", day, praise))
    return [*written, synthesis, praise]


def _commended(session: Session, campaign_id: int) -> list[CommendationRow]:
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
        CommendationRow(name=member or unit, unit=unit) for member, unit in session.execute(query)
    ]


def _write(path: Path, template: str, view: PartyDocument) -> Path:
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
        IndexGroup(
            code=code,
            name=names.get(code, code),
            documents=[_index_entry(out, entry) for entry in entries],
        )
        for code, entries in sorted(by_unit.items())
    ]
    index = DocumentIndex(code=campaign.code, title=campaign.title, groups=groups)
    out.mkdir(parents=True, exist_ok=True)
    html = inside(out, "index.html")
    html.write_text(render("index.html.j2", index), encoding="utf-8")
    markdown = inside(out, "index.md")
    markdown.write_text(render("index.md.j2", index), encoding="utf-8")
    return [html, markdown]


def _index_entry(out: Path, entry: _Entry) -> IndexEntry:
    return IndexEntry(
        title=entry.title,
        day=entry.day,
        html=entry.path.relative_to(out).as_posix(),
        markdown=entry.path.with_suffix(".md").relative_to(out).as_posix(),
    )
