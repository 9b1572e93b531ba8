"""A province's forecast (issue 24's figure: under 2 s).

    .venv/bin/python bench/forecast_province.py --members 200000 [--repeat 5] [--keep FILE]

Generates a province, imports units, members, the plan and the facts, runs the campaign at
01/02/2023 and 31/03/2023 through the tasks' plain functions (as bench/timeline.py's plain runs
do: the same work without Prefect), then times `forecast` as of 31/03/2023 several times, each in
its own read-only transaction as the CLI makes it, and the JSON the CLI would print. Prints the
median seconds, and the machine's speed before and after (bench/timeline.py's probe)."""

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from timeline import _machine_speed  # bench/timeline.py, beside this script

from campaign.forecast import forecast
from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from campaign.reconcile import reconcile
from devtools.generate import generate
from models.db import make_engine, migrate, read_only, transaction
from models.views import ForecastView

RUNS = [dt.date(2023, 2, 1), dt.date(2023, 3, 31)]
CODE = "BENCH"


def _timed(label: str, work: Any) -> Any:
    started = time.perf_counter()
    result = work()
    print(f"{label:<40} {time.perf_counter() - started:7.2f} s")
    return result


def _load(url: str, root: Path, members: int) -> None:
    """A generated province in the database at `url`, run at each of RUNS."""
    files = _timed("generate", lambda: generate(members, root / "data", seed=1, plan_code=CODE))
    engine = make_engine(url)
    migrate(engine)

    def load(fn: Any, *a: Any, **k: Any) -> Any:
        with transaction(engine) as session:
            return fn(*a, session=session, **k)

    _timed("import units", lambda: load(import_units, files.units))
    _timed("import members", lambda: load(import_members, files.members, on=RUNS[0]))
    _timed("register plan", lambda: load(register_plan, files.plan))
    new_year = dt.date(2026, 1, 1)
    _timed("import facts", lambda: load(import_facts, CODE, files.facts, actor="b", today=new_year))
    for day in RUNS:
        _timed(f"reconcile as of {day}", lambda d=day: reconcile(engine, CODE, d, "bench"))
    engine.dispose()


def _forecast(url: str) -> ForecastView:
    engine = make_engine(url)
    with read_only(engine) as session:
        view = forecast(session, CODE, RUNS[-1])
    engine.dispose()
    return view


def main() -> None:
    """Load a province, then time its forecast."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--keep",
        type=Path,
        help="a SQLite file for the province: loaded if missing, reused as it is if present",
    )
    args = parser.parse_args()
    print(f"{'machine: 10M-iteration Python loop':<40} {_machine_speed():7.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        database = args.keep or Path(folder) / "bench.db"
        url = f"sqlite:///{database}"
        if not database.exists():
            _load(url, Path(folder), args.members)
        seconds, json_seconds = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            view = _forecast(url)
            seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            view.model_dump_json()
            json_seconds.append(time.perf_counter() - started)
    listed = sum(len(o.members or []) for o in view.obligations)
    steps = sum(len(o.steps) for o in view.obligations)
    print(
        f"{'forecast entries / members / steps':<40} "
        f"{len(view.obligations):,} / {listed:,} / {steps:,}"
    )
    print(
        f"{'forecast, median of ' + str(args.repeat):<40} {statistics.median(seconds):7.2f} s"
        f"  (min {min(seconds):.2f}, max {max(seconds):.2f})"
    )
    print(f"{'its JSON, median':<40} {statistics.median(json_seconds):7.2f} s")
    print(f"{'machine: the same loop, at the end':<40} {_machine_speed():7.2f} s")


if __name__ == "__main__":
    main()
