"""The operator's commands of the foundation, run as a real subprocess."""

from pathlib import Path

from tests.cli_process import run_cli
from tests.input_files import MEMBER_HEADER, TOWN_MEMBERS, TOWN_UNITS, UNIT_HEADER_VI, write_csv

PLANS = Path(__file__).parents[2] / "plans"


def test_load_a_town_end_to_end(database_url: str, tmp_path: Path) -> None:
    units = write_csv(tmp_path / "units.csv", UNIT_HEADER_VI, TOWN_UNITS)
    members = write_csv(tmp_path / "members.csv", MEMBER_HEADER, TOWN_MEMBERS)
    steps = [
        (("db", "init"), "database ready"),
        (("units", "import", units), "5 units read — 5 created"),
        (("members", "import", members), "5 members read — 5 created"),
        (("members", "import", members), "0 created, 0 updated, 5 unchanged"),
        (("plan", "register", PLANS / "la-gi-2023.yaml"), "registered campaign GTLT-2023-LAGI"),
    ]
    for args, expected in steps:
        result = run_cli(*args, database_url=database_url)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout


def test_bad_input_exits_1_with_one_line_per_problem(database_url: str, tmp_path: Path) -> None:
    units = write_csv(tmp_path / "units.csv", UNIT_HEADER_VI, [*TOWN_UNITS, ["X", "", "cell", "Q"]])
    result = run_cli("units", "import", units, database_url=database_url)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: units.csv, row 7, column Loại: Input should be 'central', 'province', "
        "'district', 'grassroots' or 'branch' (got 'cell')",
        "error: units.csv, row 7, column Tên đơn vị: is empty",
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_usage_errors_exit_2(database_url: str, tmp_path: Path) -> None:
    assert (
        run_cli("units", "import", tmp_path / "nope.csv", database_url=database_url).returncode == 2
    )
    assert run_cli("frobnicate", database_url=database_url).returncode == 2


def test_an_unreachable_database_is_a_clear_refusal(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = run_cli("db", "init", database_url=url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: --database-url {url}: OperationalError: ")
    assert "Traceback" not in result.stderr


def test_generate_writes_the_four_files(tmp_path: Path) -> None:
    result = run_cli(
        "generate",
        "--members",
        "500",
        "--seed",
        "3",
        "--out",
        tmp_path / "g",
        database_url="sqlite:///unused.db",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == [
        "facts.csv",
        "members.csv",
        "plan.yaml",
        "units.csv",
    ]


def test_help_shows_the_defaults_and_the_date_formats(tmp_path: Path) -> None:
    """Help text is Markdown: a default in brackets is shown, not swallowed as Rich markup, and
    a docstring's paragraph is reflowed, not cut where its source line ends."""
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    run = _help("run", database_url=url)
    assert "checks every deadline and escalates. Running again" in run
    as_of = "--as-of <date> Run as of this date (YYYY-MM-DD or DD/MM/YYYY). [default: (today)]"
    actor = "--actor <str> Who acts, as the audit trail records it. [default: (your login name)]"
    assert as_of in run and actor in run
    assert "[env var: CAMPAIGN_DATABASE_URL] [default: (the SQLite file campaign.db here)]" in run
    members = _help("members", "import", database_url=url)
    assert "take effect (YYYY-MM-DD or DD/MM/YYYY). [default: (today)]" in members


def _help(*command: str, database_url: str) -> str:
    """`campaign COMMAND --help` as one line of words, without the boxes' borders."""
    result = run_cli(*command, "--help", database_url=database_url)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.replace("│", " ").split())
