"""`make demo`: a whole campaign on a generated town, told as an operator would live it.

Every step is the real `campaign` command, run as a subprocess and echoed, on a SQLite file in
`demo-out/`."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from models.db import make_engine, transaction
from models.members import count_by_status, count_leaders
from models.units import count_by_kind

OUT = Path("demo-out")
PLAN = Path("plans/la-gi-2023.yaml")
CAMPAIGN = "GTLT-2023-LAGI"
console = Console()


def campaign(*args: str | Path, quiet: bool = False) -> str:
    """Run one `campaign` command against the demo database, echoing it and its output."""
    command = [str(Path(sys.executable).parent / "campaign"), *map(str, args)]
    console.print(f"[bold cyan]$ campaign {' '.join(map(str, args))}[/]")
    env = {
        **os.environ,
        "CAMPAIGN_DATABASE_URL": f"sqlite:///{OUT / 'campaign.db'}",
        "COLUMNS": str(console.width),
    }
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        console.print(result.stdout + result.stderr)
        raise SystemExit(f"demo step failed: campaign {' '.join(map(str, args))}")
    if not quiet:
        console.print(result.stdout.rstrip())
    return result.stdout


def load() -> None:
    """Create the database, generate a town of about 2,000 members, load it, register the plan."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
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


def main() -> None:
    """Run the demo and say how long it took."""
    started = time.perf_counter()
    load()
    console.print(
        f"[bold green]demo done in {time.perf_counter() - started:.0f} s[/]; "
        f"database: {OUT / 'campaign.db'}"
    )


if __name__ == "__main__":
    main()
