"""Documents a party office can print: rendered from the record, printed to PDF by headless
Chromium (Debian's `chromium`, which `make test` installs), checked for A4 and an intact Vietnamese
text layer."""

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from campaign.doc_contents import notice
from campaign.doc_views import DocumentIndex
from campaign.docs import write_documents
from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from devtools.generate import generate
from flows.campaign_flow import campaign_flow
from models.db import transaction
from models.documents import Document
from models.units import Unit
from templates.render import render
from tests.input_files import write_csv
from tests.scenario import FACT_HEADER, ON_TIME, run_flow

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
]
# document → (pages, phrases its text layer must hold intact)
DOCUMENTS = {
    "B2/2023-05-22-overdue-0.html": (1, ["CÔNG VĂN ĐÔN ĐỐC", "Phạm Thị Dung"]),
    "bieu-mau/tu-soi-roi-lanh-dao.html": (2, ["BẢN TỰ SOI RỌI", "Hội đồng nhân dân"]),
    "bieu-mau/tu-soi-roi-dang-vien.html": (1, ["BẢN TỰ SOI RỌI", "khắc phục hạn chế"]),
    "G1/bao-cao-ket-qua.html": (1, ["BÁO CÁO KẾT QUẢ", "Đảng viên tự soi rọi"]),
    "TOWN/bao-cao-tong-hop.html": (1, ["BÁO CÁO TỔNG HỢP", "Chi bộ Trường THCS Nguyễn Du"]),
    "TOWN/danh-sach-bieu-duong.html": (1, ["DANH SÁCH BIỂU DƯƠNG", "Nơi nhận"]),
    "G1/ke-hoach-thuc-hien.html": (2, ["KẾ HOẠCH TỔ CHỨC", "Chi bộ khu phố 2", "23/06/2023"]),
}


@pytest.fixture
def documents(town: Engine, tmp_path: Path) -> Path:
    """The test town's documents after the 22/05/2023 run."""
    with transaction(town) as session:
        path = write_csv(tmp_path / "facts.csv", FACT_HEADER, ON_TIME)
        import_facts("T23", path, session=session, actor="t", today=dt.date(2026, 1, 1))
    campaign_flow("T23", dt.date(2023, 5, 22), "t", town.url.render_as_string(hide_password=False))
    with transaction(town) as session:
        write_documents(session, "T23", tmp_path / "docs")
    return tmp_path / "docs"


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"`{name}` is missing: apt-get install chromium poppler-utils"
    return found


def test_every_document_type_prints_to_a4_with_its_text(documents: Path, tmp_path: Path) -> None:
    chromium, pdfinfo, pdftotext = _tool("chromium"), _tool("pdfinfo"), _tool("pdftotext")
    for name, (pages, expected) in DOCUMENTS.items():
        pdf = tmp_path / (name.replace("/", "_") + ".pdf")
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                f"--print-to-pdf={pdf}",
                (documents / name).as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True)
        assert "(A4)" in info.stdout, (name, info.stdout)
        assert re.search(rf"^Pages:\s+{pages}$", info.stdout, re.MULTILINE), (name, info.stdout)
        text = subprocess.run(
            [pdftotext, str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        for phrase in ["ĐẢNG CỘNG SẢN VIỆT NAM", *expected]:
            assert phrase in " ".join(text.split()), (name, phrase)


GOLDEN = Path(__file__).parents[1] / "golden"
GOLDEN_FILES = [
    "B2/2023-05-22-overdue-0.html",
    "B2/2023-05-22-overdue-0.md",
    "G1/bao-cao-ket-qua.html",
    "TOWN/bao-cao-tong-hop.html",
    "G1/ke-hoach-thuc-hien.html",
    "bieu-mau/tu-soi-roi-dang-vien.html",
]


def test_documents_match_their_golden_files(documents: Path) -> None:
    """Byte-for-byte; after a deliberate change run with UPDATE_GOLDEN=1 and review the diff."""
    for name in GOLDEN_FILES:
        golden = GOLDEN / name.replace("/", "__")
        produced = (documents / name).read_text(encoding="utf-8")
        if os.environ.get("UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(produced, encoding="utf-8")
        assert produced == golden.read_text(encoding="utf-8"), name


def test_every_template_renders_for_a_generated_town(engine: Engine, tmp_path: Path) -> None:
    """The demo's kind of campaign: a generated town run through the timeline's key dates."""
    files = generate(400, tmp_path / "data", shape="town", seed=5, plan_code="DEMO")
    with transaction(engine) as session:
        import_units(files.units, session=session)
        import_members(files.members, session=session, on=dt.date(2023, 1, 30))
        register_plan(files.plan, session=session)
        import_facts("DEMO", files.facts, session=session, actor="t", today=dt.date(2026, 1, 1))
    url = engine.url.render_as_string(hide_password=False)
    for day in ("2023-02-16", "2023-05-20", "2023-06-30"):
        campaign_flow("DEMO", dt.date.fromisoformat(day), "t", url)
    seen: list[tuple[int, int]] = []
    with transaction(engine) as session:
        write_documents(session, "DEMO", tmp_path / "docs", lambda *d: seen.append(d))
        grassroots = session.scalars(select(Unit.code).where(Unit.kind == "grassroots")).all()
    names = {p.relative_to(tmp_path / "docs").as_posix() for p in (tmp_path / "docs").rglob("*")}
    for code in grassroots:
        for document in ("ke-hoach-thuc-hien", "bao-cao-ket-qua"):
            assert {f"{code}/{document}.html", f"{code}/{document}.md"} <= names
    assert {"LAGI/bao-cao-tong-hop.html", "LAGI/danh-sach-bieu-duong.md", "index.md"} <= names
    assert any("-overdue-" in name for name in names)
    issued = [n for n in names if re.fullmatch(r"[^/]+/\d{4}-\d\d-\d\d-[a-z]+-\d\.md", n)]
    # the progress bar is told of each issued document, out of all of them
    assert seen == [(done, len(issued)) for done in range(1, len(issued) + 1)]


def test_index_html_links_the_html_documents_and_index_md_the_markdown(documents: Path) -> None:
    """An office opens documents in a browser: index.html links every HTML document, grouped
    by unit under its name, each with its date; index.md links the Markdown ones only."""
    page = (documents / "index.html").read_text(encoding="utf-8")
    html = {p.relative_to(documents).as_posix() for p in documents.rglob("*.html")}
    linked = set(re.findall(r'href="([^"]+)"', page))
    assert linked == html - {"index.html"}
    assert "@page { size: A4" in page and '<html lang="vi">' in page
    assert "<h2>Chi bộ khu phố 2 (B2)</h2>" in page
    assert re.search(
        r"<td class=\"day\">22/05/2023</td><td><a href=\"B2/2023-05-22-overdue-0"
        r"\.html\">Công văn đôn đốc \(quá hạn\) — Chi bộ khu phố 2</a>",
        page,
    )
    markdown = (documents / "index.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", markdown)
    assert links and all(link.endswith(".md") for link in links)
    assert {link.removesuffix(".md") for link in links} == {
        link.removesuffix(".html") for link in linked
    }
    assert "- [22/05/2023 — Công văn đôn đốc (quá hạn) — Chi bộ khu phố 2]" in markdown


def test_the_index_escapes_what_it_is_given() -> None:
    page = render("index.html.j2", DocumentIndex(code="C", title="<script>x</script>", groups=[]))
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_a_notice_stored_before_the_register_and_names_prints_as_then(
    documents: Path, town: Engine, tmp_path: Path
) -> None:
    """A notice stored without a number, a recipient's name or the copied units' names (by an
    older engine) prints a number for the office to write in, and the units' codes."""
    with transaction(town) as session:
        stored = session.scalars(select(Document).where(Document.key.like("%:G2:escalation:%")))
        notice = stored.one()
        old = ("number", "recipient_name", "copied_names")
        notice.context = {k: v for k, v in notice.context.items() if k not in old}
    with transaction(town) as session:
        write_documents(session, "T23", tmp_path / "again")
    html = (tmp_path / "again" / "G2" / "2023-05-22-escalation-2.html").read_text("utf-8")
    assert "Số …-CV</div>" in html
    assert "<li>TOWN,</li><li>G2,</li><li>Lưu Văn phòng.</li>" in html
    assert "Kính gửi: Chi bộ Trường THCS Nguyễn Du, qua TOWN.</p>" in html


def test_a_stored_notice_becomes_a_view_of_dates_and_numbers() -> None:
    """A notice's context is stored as JSON (ISO dates); its view holds dates and ints."""
    stored = {
        "campaign": {"code": "C", "title": "Chủ đề", "number": None, "place": "La Gi"},
        "issuer": {"code": "TOWN", "name": "Thị ủy"},
        "issued_on": "2023-05-20",
        "number": "3-CV/TU",
        "step": "overdue",
        "level": 0,
        "unit": {"code": "B2", "name": "Chi bộ khu phố 2"},
        "recipient": "B2",
        "copied": ["G1"],
        "recipient_name": "Chi bộ khu phố 2",
        "copied_names": ["Đảng bộ phường Tân An"],
        "items": [{"kind": "self_assess", "name": "Tự soi", "due": "2023-05-19", "window": None}],
        "members": [{"code": "M4", "full_name": "Phạm Thị Dung", "due": "2023-05-19"}],
    }
    view = notice("Công văn đôn đốc (quá hạn) — Chi bộ khu phố 2", stored)
    assert (view.issued_on, view.items[0].due) == (dt.date(2023, 5, 20), dt.date(2023, 5, 19))
    assert view.recipients == ["Chi bộ khu phố 2", "Đảng bộ phường Tân An"]
    assert (view.heading, view.number, view.place) == (
        "Công văn đôn đốc (quá hạn)",
        "3-CV/TU",
        "La Gi",
    )


def test_notices_name_their_recipients_by_name(documents: Path) -> None:
    """'Nơi nhận' names units as a party document does, never by their codes."""
    overdue = (documents / "B2" / "2023-05-22-overdue-0.md").read_text(encoding="utf-8")
    assert "**Nơi nhận:** Chi bộ khu phố 2, Đảng bộ phường Tân An, lưu VP." in overdue
    escalated = documents / "G2" / "2023-05-22-escalation-2"
    markdown = escalated.with_suffix(".md").read_text(encoding="utf-8")
    assert "Kính gửi: Thị ủy Thử Nghiệm\n" in markdown
    assert "**Nơi nhận:** Thị ủy Thử Nghiệm, Chi bộ Trường THCS Nguyễn Du, lưu VP." in markdown
    html = escalated.with_suffix(".html").read_text(encoding="utf-8")
    assert "<li>Thị ủy Thử Nghiệm,</li><li>Chi bộ Trường THCS Nguyễn Du,</li>" in html
    assert "qua Thị ủy Thử Nghiệm." in html


def test_a_report_names_what_is_late_in_vietnamese(town: Engine, tmp_path: Path) -> None:
    """The result report of a unit with late duties says what and how late in Vietnamese, never
    the engine's codes (issue_plan, overdue …)."""
    run_flow(town, "2023-02-01")
    run_flow(town, "2023-03-01")  # G1's plan, due 15/02, never issued: escalated by now
    with transaction(town) as session:
        write_documents(session, "T23", tmp_path / "docs")
    for suffix in ("html", "md"):
        report = (tmp_path / "docs" / "G1" / f"bao-cao-ket-qua.{suffix}").read_text()
        late = report[report.lower().index("nội dung còn chậm") :]
        assert "Ban hành kế hoạch thực hiện (hạn 15/02/2023): quá hạn" in late
        assert not {"issue_plan", "overdue", "escalated"} & set(re.findall(r"\w+", late))
