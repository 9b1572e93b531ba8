"""The campaign's operator commands, run as a real subprocess."""

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tests.cli_process import run_cli
from tests.input_files import UNIT_HEADER, write_csv
from tests.scenario import ON_TIME


def test_facts_run_status_escalations_audit(town: Engine, tmp_path: Path) -> None:
    url = town.url.render_as_string(hide_password=False)
    facts = write_csv(
        tmp_path / "facts.csv",
        ["Ngày", "Loại", "Đơn vị", "Đảng viên", "Ghi chú"],
        [[f"{r[0][8:]}/{r[0][5:7]}/{r[0][:4]}", *r[1:]] for r in ON_TIME],
    )
    imported = run_cli("facts", "import", "T23", facts, database_url=url)
    assert imported.returncode == 0, imported.stderr
    assert "6 recorded, 0 already recorded" in imported.stdout

    ran = run_cli("run", "T23", "--as-of", "2023-05-22", "--actor", "operator-a", database_url=url)
    assert ran.returncode == 0, ran.stderr
    assert "as of 22/05/2023: campaign reporting" in ran.stdout

    status = json.loads(run_cli("status", "T23", "--format", "json", database_url=url).stdout)
    assert (status["campaign"], status["as_of"], status["state"]) == (
        "T23",
        "2023-05-22",
        "reporting",
    )
    assert status["targets"]["members_self_assessed"] == {"done": 2, "eligible": 5, "percent": 40.0}
    assert {u["code"] for u in status["units"]} == {"TOWN", "G1", "B1", "B2", "G2"}
    g1 = run_cli("status", "T23", "--unit", "G1", database_url=url)
    assert g1.returncode == 0 and "B2" in g1.stdout and "G2 " not in g1.stdout

    escalations = json.loads(
        run_cli("escalations", "T23", "--format", "json", database_url=url).stdout
    )
    late = {(e["unit"], e["obligation"]): e for e in escalations}
    assert late[("G2", "self_assess")]["members"] == ["M6", "M7"]
    assert late[("G2", "issue_plan")]["level"] == 2

    trail = json.loads(
        run_cli("audit", "T23", "--member", "M1", "--format", "json", database_url=url).stdout
    )
    assert [(e["trigger"], e["from"], e["to"], e["actor"]) for e in trail] == [
        ("submit", "pending", "submitted", "operator-a"),
        ("accept", "submitted", "accepted", "operator-a"),
        ("meet", "open", "met", "operator-a"),
    ]
    rows = list(
        csv.DictReader(
            io.StringIO(
                run_cli("audit", "T23", "--unit", "B2", "--format", "csv", database_url=url).stdout
            )
        )
    )
    assert rows and all(r["unit"] == "B2" for r in rows)
    verified = run_cli("audit", "verify", database_url=url)
    assert verified.returncode == 0 and "chain intact" in verified.stdout

    _assert_the_documents_are_written(url, tmp_path, status["targets"]["members_self_assessed"])

    back = run_cli("run", "T23", "--as-of", "2023-05-01", database_url=url)
    assert back.returncode == 1
    assert back.stderr.startswith("error: campaign T23 has already run as of 22/05/2023")
    assert "Traceback" not in back.stderr


def _assert_the_documents_are_written(url: str, tmp_path: Path, members: dict[str, Any]) -> None:
    """`docs` after the run of 22/05/2023: the notices, the synthesis and the forms, with their
    indexes; `members` is the status's members_self_assessed target."""
    docs = run_cli("docs", "T23", "--out", tmp_path / "docs", database_url=url)
    assert docs.returncode == 0, docs.stderr
    assert str(tmp_path / "docs" / "index.html") in docs.stdout
    notice = (tmp_path / "docs" / "B2" / "2023-05-22-overdue-0.md").read_text(encoding="utf-8")
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in notice and "Phạm Thị Dung (M4)" in notice
    assert "B2/2023-05-22-overdue-0.md" in (tmp_path / "docs" / "index.md").read_text()
    html = (tmp_path / "docs" / "B2" / "2023-05-22-overdue-0.html").read_text(encoding="utf-8")
    assert "@page { size: A4" in html and "Nơi nhận" in html and "Phạm Thị Dung" in html
    synthesis = (tmp_path / "docs" / "TOWN" / "bao-cao-tong-hop.html").read_text(encoding="utf-8")
    assert f"<td>{members['done']}</td><td>{members['eligible']}</td><td>40,0%</td>" in synthesis
    assert "<svg" in synthesis and "G2 Chi bộ Trường THCS Nguyễn Du" in synthesis
    form = tmp_path / "docs" / "bieu-mau" / "tu-soi-roi-lanh-dao.html"
    assert "Hội đồng nhân dân" in form.read_text(encoding="utf-8")


def test_names_and_notes_are_printed_as_they_are(town: Engine, tmp_path: Path) -> None:
    """Square brackets in data are text, not Rich markup: a unit renamed '… [cũ]' keeps its
    suffix, and an actor '[/ops]' (an unmatched closing tag to Rich) crashes nothing."""
    url = town.url.render_as_string(hide_password=False)
    renamed = write_csv(
        tmp_path / "units.csv", UNIT_HEADER, [["B2", "Chi bộ khu phố 2 [cũ]", "branch", "G1"]]
    )
    assert run_cli("units", "import", renamed, database_url=url).returncode == 0
    ran = run_cli("run", "T23", "--as-of", "2023-05-22", "--actor", "[/ops]", database_url=url)
    assert ran.returncode == 0, ran.stderr
    escalations = run_cli("escalations", "T23", database_url=url)
    assert escalations.returncode == 0, escalations.stderr
    assert "B2 Chi bộ khu phố 2 [cũ]" in escalations.stdout
    status = run_cli("status", "T23", "--unit", "G1", database_url=url)
    assert "B2 Chi bộ khu phố 2 [cũ]" in status.stdout
    audit = run_cli("audit", "T23", "--unit", "B2", database_url=url)
    assert audit.returncode == 0, audit.stderr
    assert "[/ops]" in audit.stdout
