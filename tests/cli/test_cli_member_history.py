"""`campaign members history CODE`, through the real console script: a member's dated changes
of unit, status and leader flag, and their joining, with who made each, as a table and JSON."""

import json
from pathlib import Path

from sqlalchemy import Engine

from tests.cli_process import run_cli
from tests.input_files import MEMBER_HEADER, write_csv
from tests.town import MEMBERS, UNITS

LAN = ["M8", "Bùi Thị Lan", "B2", "no", "", "active"]


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _import(engine: Engine, path: Path, rows: list[list[str]], *options: str) -> None:
    written = write_csv(path, [*MEMBER_HEADER, "since"], rows)
    done = run_cli("members", "import", written, *options, database_url=_url(engine))
    assert done.returncode == 0, done.stderr


def test_a_members_changes_are_listed_with_their_days_and_actors(
    town: Engine, tmp_path: Path
) -> None:
    """M8 admitted to B2 on 10/04 by the organisation office; moved to B1 and made a leader
    from 15/05, then transferred out from 01/06, by the clerk."""
    rows = [[*m, ""] for m in MEMBERS]
    joined = [*LAN, "10/04/2023"]
    _import(
        town, tmp_path / "a.csv", [*rows, joined], "--on", "2023-04-11", "--actor", "ban-to-chuc"
    )
    moved = ["M8", "Bùi Thị Lan", "B1", "yes", "Tổ trưởng", "active", "15/05/2023"]
    _import(town, tmp_path / "b.csv", [*rows, moved], "--on", "2023-05-16", "--actor", "clerk")
    gone = [*moved[:5], "transferred_out", "01/06/2023"]
    _import(town, tmp_path / "c.csv", [*rows, gone], "--on", "2023-06-02", "--actor", "clerk")
    done = run_cli("members", "history", "M8", "--format", "json", database_url=_url(town))
    assert done.returncode == 0, done.stderr
    history = json.loads(done.stdout)
    assert (history["member"], history["unit"], history["status"], history["leader"]) == (
        "M8", "B1", "transferred_out", True
    )  # fmt: skip
    assert [tuple(c.values()) for c in history["changes"]] == [
        ("2023-04-10", "joined", "", "B2", "ban-to-chuc"),
        ("2023-05-15", "unit", "B2", "B1", "clerk"),
        ("2023-05-15", "leader", "no", "yes", "clerk"),
        ("2023-06-01", "status", "active", "transferred_out", "clerk"),
    ]
    assert list(history["changes"][0]) == ["on", "field", "from", "to", "actor"]
    table = run_cli("members", "history", "M8", database_url=_url(town))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "M8 Bùi Thị Lan (B1, transferred_out, leader)" in lines[0]
    moved_row = next(line for line in lines if "unit" in line and "B1" in line)
    cells = [cell.strip() for cell in moved_row.split("│")[1:-1]]
    assert cells == ["15/05/2023", "unit", "B2", "B1", "clerk"]


def test_a_member_never_changed_and_an_unknown_one(town: Engine) -> None:
    quiet = run_cli("members", "history", "M1", database_url=_url(town))
    assert quiet.returncode == 0, quiet.stderr
    assert "no change since imported" in quiet.stdout
    unknown = run_cli("members", "history", "NOPE", database_url=_url(town))
    assert (unknown.returncode, unknown.stderr) == (1, "error: no member 'NOPE'\n")
    bad = run_cli("members", "history", "M1", "--format", "xml", database_url=_url(town))
    assert bad.returncode == 2


def test_a_move_by_a_units_merger_names_who_imported_the_tree(town: Engine, tmp_path: Path) -> None:
    """B2 merged into B1 from 15/05 by the organisation office: M4 moved with it."""
    header = ["code", "name", "kind", "parent", "status", "merged_into", "since"]
    rows = [[*u, "", "", ""] for u in UNITS]
    rows[3] = ["B2", "Chi bộ khu phố 2", "branch", "G1", "", "B1", "15/05/2023"]
    written = write_csv(tmp_path / "units.csv", header, rows)
    done = run_cli(
        "units", "import", written, "--on", "2023-05-16", "--actor", "ban-to-chuc",
        database_url=_url(town),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = run_cli("members", "history", "M4", "--format", "json", database_url=_url(town))
    assert shown.returncode == 0, shown.stderr
    assert [tuple(c.values()) for c in json.loads(shown.stdout)["changes"]] == [
        ("2023-05-15", "unit", "B2", "B1", "ban-to-chuc")
    ]
