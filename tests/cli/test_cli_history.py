"""`campaign units history CODE`, through the real console script: a unit's dated changes with
who made them, as a table and as JSON."""

import json
from pathlib import Path

from sqlalchemy import Engine

from tests.cli_process import run_cli
from tests.input_files import write_csv
from tests.town import UNITS

HEADER = ["code", "name", "kind", "parent", "status", "merged_into", "since"]


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _import(engine: Engine, path: Path, rows: list[list[str]], *options: str) -> None:
    done = run_cli(
        "units", "import", write_csv(path, HEADER, rows), *options, database_url=_url(engine)
    )
    assert done.returncode == 0, done.stderr


def test_a_units_changes_are_listed_with_their_days_and_actors(
    town: Engine, tmp_path: Path
) -> None:
    """B2 moved under a new G3 from 15/05 by the organisation office, then merged into B1 from
    01/06 by the clerk."""
    rows = [[*u, "", "", ""] for u in UNITS]
    g3 = ["G3", "Đảng bộ phường Phước Hội", "grassroots", "TOWN", "", "", ""]
    rows[3] = ["B2", "Chi bộ khu phố 2", "branch", "G3", "", "", "15/05/2023"]
    _import(town, tmp_path / "a.csv", [*rows, g3], "--on", "2023-05-16", "--actor", "ban-to-chuc")
    rows[3] = ["B2", "Chi bộ khu phố 2", "branch", "G3", "", "B1", "01/06/2023"]
    _import(town, tmp_path / "b.csv", [*rows, g3], "--on", "2023-06-02", "--actor", "clerk")
    done = run_cli("units", "history", "B2", "--format", "json", database_url=_url(town))
    assert done.returncode == 0, done.stderr
    history = json.loads(done.stdout)
    assert (history["unit"], history["kind"], history["dissolved_on"]) == (
        "B2", "branch", "2023-06-01"
    )  # fmt: skip
    assert [tuple(c.values()) for c in history["changes"]] == [
        ("2023-05-15", "parent", "G1", "G3", "ban-to-chuc"),
        ("2023-06-01", "status", "active", "dissolved", "clerk"),
        ("2023-06-01", "merged_into", "", "B1", "clerk"),
    ]
    assert list(history["changes"][0]) == ["on", "field", "from", "to", "actor"]
    table = run_cli("units", "history", "B2", database_url=_url(town))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "B2 Chi bộ khu phố 2 (branch), dissolved from 01/06/2023" in lines[0]
    moved = next(line for line in lines if "parent" in line)
    cells = [cell.strip() for cell in moved.split("│")[1:-1]]
    assert cells == ["15/05/2023", "parent", "G1", "G3", "ban-to-chuc"]


def test_a_unit_never_changed_and_an_unknown_one(town: Engine) -> None:
    quiet = run_cli("units", "history", "G2", database_url=_url(town))
    assert quiet.returncode == 0, quiet.stderr
    assert "no change since the unit was imported" in quiet.stdout
    unknown = run_cli("units", "history", "NOPE", database_url=_url(town))
    assert (unknown.returncode, unknown.stderr) == (1, "error: no unit 'NOPE'\n")
    bad = run_cli("units", "history", "G2", "--format", "xml", database_url=_url(town))
    assert bad.returncode == 2


def test_a_change_dated_after_the_imports_day_is_refused(town: Engine, tmp_path: Path) -> None:
    rows = [[*u, "", "", ""] for u in UNITS]
    rows[3][3], rows[3][6] = "G2", "20/05/2023"
    done = run_cli(
        "units", "import", write_csv(tmp_path / "u.csv", HEADER, rows), "--on", "2023-05-16",
        database_url=_url(town),
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        "error: u.csv, row 5, column since: 20/05/2023 is after the import's date 16/05/2023\n"
    )
