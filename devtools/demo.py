"""`make demo`: a whole campaign on a generated town, told as an operator would live it.

Every step is the real `campaign` command, run as a subprocess and echoed, on a SQLite file in
`demo-out/`."""

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from flows.prefect_server import local_prefect_server, wait_healthy
from models.db import make_engine, transaction
from models.members import count_by_status, count_leaders
from models.units import count_by_kind

OUT = Path("demo-out")
PLAN = Path("plans/la-gi-2023.yaml")
CAMPAIGN = "GTLT-2023-LAGI"
console = Console()


def campaign(*args: str | Path, quiet: bool = False, stdin: str | None = None) -> str:
    """Run one `campaign` command against the demo database, echoing it and its output
    (`stdin`: what it reads, e.g. a password, never echoed)."""
    command = [str(Path(sys.executable).parent / "campaign"), *map(str, args)]
    console.print(f"$ campaign {shlex.join(map(str, args))}", style="bold cyan", markup=False)
    env = {
        **os.environ,
        "CAMPAIGN_DATABASE_URL": f"sqlite:///{OUT / 'campaign.db'}",
        "COLUMNS": str(console.width),
    }
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, input=stdin, check=False
    )
    if result.returncode != 0:
        console.print(result.stdout + result.stderr, markup=False)
        raise SystemExit(f"demo step failed: campaign {' '.join(map(str, args))}")
    if not quiet:
        console.print(result.stdout.rstrip(), markup=False)  # the command's own text
    return result.stdout


def load() -> None:
    """Create the database, generate a town of about 2,000 members, load it, register the plan."""
    campaign("db", "init")
    campaign(
        "generate", "--members", "2000", "--shape", "town", "--seed", "2023", "--out", OUT / "data"
    )
    campaign("units", "import", OUT / "data" / "units.csv")
    campaign("members", "import", OUT / "data" / "members.csv", "--on", "2023-01-30")
    campaign("plan", "register", PLAN)
    summarise()


def summarise() -> None:
    """What was loaded: units by kind, members by status, leaders."""
    engine = make_engine(f"sqlite:///{OUT / 'campaign.db'}")
    with transaction(engine) as session:
        kinds, statuses, leaders = (
            count_by_kind(session),
            count_by_status(session),
            count_leaders(session),
        )
    engine.dispose()
    table = Table("loaded", "count", title="the organisation", title_justify="left")
    for kind in ("province", "district", "grassroots", "branch"):
        if kinds.get(kind):
            table.add_row(f"units: {kind}", f"{kinds[kind]:,}")
    for status in ("active", "exempt", "transferred_out"):
        table.add_row(f"members: {status}", f"{statuses.get(status, 0):,}")
    table.add_row("members: leaders (lãnh đạo, quản lý)", f"{leaders:,}")
    console.print(table)


TIMELINE = [
    ("2023-02-01", "the period starts: the plan is deployed"),
    ("2023-02-15", "implementation plans are due"),
    ("2023-02-16", "the day after: overdue notices for missing implementation plans"),
    ("2023-03-31", "mid-period"),
    ("2023-05-10", "seven working days before the end: reminders"),
    ("2023-05-19", "the period ends"),
    ("2023-05-22", "the first working day after: overdue notices, late members listed by branch"),
    (
        "2023-05-31",
        "seven working days later: escalation to the superior committee; a late-recorded "
        "session turns overdue into met",
    ),
    ("2023-06-23", "grassroots reports are due"),
    ("2023-06-30", "the committee's synthesis is due"),
]
HELD_BACK_UNTIL = "2023-05-31"  # one branch reports its on-time session only after the period


def facts_until(day: str, held_back: str) -> Path:
    """The facts a committee office would have received by `day` (one branch reports late)."""
    import csv

    from campaign.exports import csv_dicts

    source = OUT / "data" / "facts.csv"
    path = OUT / "data" / f"facts-{day}.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    late = day < HELD_BACK_UNTIL
    kept = [r for r in rows if r["date"] <= day and not (late and r["unit"] == held_back)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv_dicts(handle, list(rows[0]), kept)
    return path


def held_back_branch() -> str:
    """A branch that held its session in time, whose report the demo delays."""
    import csv

    with (OUT / "data" / "facts.csv").open(encoding="utf-8", newline="") as handle:
        sessions = [
            r
            for r in csv.DictReader(handle)
            if r["kind"] == "session_held"
            and "2023-05-01" <= r["date"] <= "2023-05-18"
            and "-B" in r["unit"]
        ]
    return sessions[0]["unit"]


def run_timeline() -> None:
    """Run the La Gi 2023 plan at the dates that matter, recording facts as they arrive."""
    held_back = held_back_branch()
    for day, story in TIMELINE:
        console.rule(f"[bold]{day}[/] — {story}")
        campaign("facts", "import", CAMPAIGN, facts_until(day, held_back), quiet=True)
        campaign("run", CAMPAIGN, "--as-of", day, "--actor", "demo")
    console.rule("[bold]after the campaign[/]")
    campaign("escalations", CAMPAIGN, quiet=True)
    campaign("status", CAMPAIGN)
    campaign("audit", "verify")
    campaign("docs", CAMPAIGN, "--out", OUT / "documents")


def demo_accounts() -> list[tuple[str, str, str, str]]:
    """The console's demo accounts, each with a password made now: the town's office, the
    secretary of the branch that reported late, the inspection committee. (login, role, unit,
    password)"""
    import csv
    import secrets

    with (OUT / "data" / "units.csv").open(encoding="utf-8", newline="") as handle:
        names = {row["code"]: row["name"] for row in csv.DictReader(handle)}
    branch = held_back_branch()
    made = [
        ("vp.lagi", "Văn phòng Thị ủy La Gi", "operator", "LAGI"),
        (f"bt.{branch.lower()}", f"Bí thư {names[branch]} ({branch})", "secretary", branch),
        ("ubkt.lagi", "Ủy ban Kiểm tra Thị ủy La Gi", "reviewer", "LAGI"),
    ]
    accounts = []
    for login, name, role, unit in made:
        password = secrets.token_urlsafe(12)
        campaign(
            *("users", "add", login, "--name", name, "--role", role, "--unit", unit),
            stdin=password + "\n",
        )
        accounts.append((login, role, unit, password))
    return accounts


def how_to_open(accounts: list[tuple[str, str, str, str]]) -> None:
    """How to open the console on the demo's database, and its logins (shown this once)."""
    url = f"sqlite:///{(OUT / 'campaign.db').resolve()}"
    console.rule("[bold]the web console[/]")
    console.print("Start it on the demo's database (Ctrl+C stops it):")
    console.print(f"  campaign serve --database-url {url}", style="bold cyan", markup=False)
    console.print("then open http://127.0.0.1:8000/login and log in as one of:")
    table = Table("login", "role", "unit", "password")
    for login, role, unit, password in accounts:
        table.add_row(login, role, unit, password)
    console.print(table)
    console.print(
        "[dim]The passwords are shown only now; `campaign users reset-password LOGIN` sets "
        "another.[/]"
    )


def main() -> None:
    """Run the demo and say how long it took."""
    started = time.perf_counter()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    # The Prefect server starts while the organisation loads (which needs no Prefect).
    with local_prefect_server(OUT / "prefect", ready=False) as api:
        load()
        wait_healthy(api)
        console.print("[dim]a local Prefect server runs the flows (its UI shows the artifacts)[/]")
        run_timeline()
    accounts = demo_accounts()
    console.print(
        f"[bold green]demo done in {time.perf_counter() - started:.0f} s[/]; "
        f"database: {OUT / 'campaign.db'}"
    )
    how_to_open(accounts)


if __name__ == "__main__":
    main()
