"""The full 2023 timeline on a generated province (issue 4's figure).

    .venv/bin/python bench/timeline.py --members 200000 [--prefect-db postgresql]
                                       [--events-per step]

Generates the organisation, imports units, members and facts, runs the campaign flow at every
date that matters against one local Prefect server, then reads the status; prints each step's
seconds. Then runs the same dates again on a copy of the database taken before the first run,
through the plain reconcile (`campaign.reconcile.reconcile`): the difference per run is what
Prefect adds (task and flow runs, events, artifacts, its server sharing the machine), including
the seconds its client sleeps before retrying a request its SQLite server refused as locked.
The plain runs' seconds are also summed by task (as its progress observer hears each end), to
show where a run's own work goes. The machine's speed is probed before and after, since this
host's drifts by a third within minutes."""

import argparse
import datetime as dt
import logging
import os
import re
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from campaign.reconcile import reconcile
from campaign.status import campaign_status
from devtools.generate import generate
from flows.announce import announcements
from flows.campaign_flow import campaign_flow
from flows.prefect_server import local_prefect_server
from models.db import make_engine, migrate, transaction
from models.settings import get_settings

DATES = [
    "2023-02-01",
    "2023-02-15",
    "2023-02-16",
    "2023-03-31",
    "2023-05-12",
    "2023-05-19",
    "2023-05-20",
    "2023-05-27",
    "2023-06-23",
    "2023-06-30",
]


def _machine_speed() -> float:
    """Seconds for a 10-million-iteration Python loop: this machine's speed varies by a fifth
    from one hour to the next, so figures of different sessions compare only beside this."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


class _RetryWaits(logging.Filter):
    """The waits of Prefect's client before it retries a request its server answered 503.

    Prefect's server answers 503 when its SQLite file is locked, e.g. when a flow run is created
    while the server is still writing the previous run's events; the client then sleeps 2, 4,
    8 s … before retrying. Its DEBUG lines, enabled on `prefect.client` to see these waits, are
    counted here and go nowhere."""

    _WAIT = re.compile(r"Another attempt will be made in ([0-9.]+)s")

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            return True
        if found := self._WAIT.search(record.getMessage()):
            self.seconds.append(float(found.group(1)))
        return False


def _step(label: str, work: object) -> float:
    started = time.perf_counter()
    result = work()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"{label:<40} {seconds:7.2f} s  {result if result is not None else ''}")
    return seconds


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument(
        "--prefect-db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="where the Prefect server keeps its records (the campaign's database is SQLite "
        "either way): its default SQLite file, or a throwaway PostgreSQL cluster",
    )
    parser.add_argument(
        "--events-per",
        choices=["notice", "step"],
        default="notice",
        help="the runs' Prefect events (CAMPAIGN_EVENTS_PER): one per notice, or one per "
        "ladder step and level naming the late units",
    )
    return parser.parse_args()


def main() -> None:
    """Run the timeline and print its figures."""
    args = _arguments()
    os.environ["CAMPAIGN_EVENTS_PER"] = args.events_per
    get_settings.cache_clear()
    print(f"{'machine: 10M-iteration Python loop':<40} {_machine_speed():7.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'bench.db'}"
        total = _load(args.members, root, url)
        shutil.copy(root / "bench.db", root / "plain.db")
        with_prefect, prefect_report = _prefect_runs(args, root, url)
        total += sum(with_prefect)
        total += _step("status", lambda: _status(make_engine(url)))
        print(f"{'whole timeline':<40} {total:7.2f} s")
        print("\n".join(prefect_report))
        _plain_runs(f"sqlite:///{root / 'plain.db'}", with_prefect)
    # The host's speed drifts within minutes (the same plain runs took 19.6 to 34.3 s in one
    # evening's benches): a loop slower at the end than at the start says a slow spell came.
    print(f"\n{'machine: the same loop, at the end':<40} {_machine_speed():7.2f} s")


def _load(members: int, root: Path, url: str) -> float:
    """Generate the province and import it into the database at `url`; the seconds taken."""
    files = generate(members, root / "data", seed=1, plan_code="BENCH")
    engine = make_engine(url)
    migrate(engine)

    def load(fn: Any, *a: Any, **k: Any) -> Any:
        with transaction(engine) as session:
            return fn(*a, session=session, **k)

    total = _step("import units", lambda: load(import_units, files.units).created)
    total += _step(
        "import members",
        lambda: load(import_members, files.members, on=dt.date(2023, 1, 30)).created,
    )
    total += _step("register plan", lambda: load(register_plan, files.plan)[0].code)
    new_year = dt.date(2026, 1, 1)
    total += _step(
        "import facts",
        lambda: load(import_facts, "BENCH", files.facts, actor="bench", today=new_year).recorded,
    )
    engine.dispose()
    return total


def _runs(work: Any, verb: str, again: str) -> list[float]:
    """`work(day)` at every date (twice at the date before the campaign closes); the seconds of
    each, printed as `_step` prints them, labelled `verb` (and `again` the second time)."""
    seconds = []
    for day in DATES:
        as_of = dt.date.fromisoformat(day)
        seconds.append(_step(f"{verb} as of {day}", lambda d=as_of: work(d)))
        if day == "2023-06-23":  # the campaign closes at the next date
            seconds.append(_step(f"{verb} again as of {day}{again}", lambda d=as_of: work(d)))
    return seconds


def _prefect_runs(args: argparse.Namespace, root: Path, url: str) -> tuple[list[float], list[str]]:
    """The timeline through the campaign flow on one local Prefect server: the runs' seconds,
    and the lines that report what Prefect took besides (events, its client's waits, CPU)."""
    announced: list[int] = []
    waits = _RetryWaits()
    client_log = logging.getLogger("prefect.client")
    client_log.addFilter(waits)
    client_log.setLevel(logging.DEBUG)
    with (
        _prefect_database(args.prefect_db) as prefect_db,
        local_prefect_server(root / "prefect", database_url=prefect_db),
    ):
        server_before, own_before = _server_cpu(), time.process_time()
        seconds = _runs(lambda day: _run(day, url, announced), "run", " (no-op)")
        server_cpu, own_cpu = _server_cpu() - server_before, time.process_time() - own_before
    return seconds, [
        f"{f'prefect events announced (per {args.events_per})':<40} {sum(announced):7,}",
        f"{'prefect client waiting out 503s':<40} {sum(waits.seconds):7.2f} s"
        f"  ({len(waits.seconds)} retries; in the runs above)",
        f"{'CPU in the runs above: this process':<40} {own_cpu:7.2f} s"
        f"  (of {sum(seconds):.2f} s wall; its threads share one interpreter)",
        f"{'CPU in the runs above: Prefect server':<40} {server_cpu:7.2f} s",
    ]


def _plain_runs(url: str, with_prefect: list[float]) -> None:
    """The same runs through the plain reconcile; prints Prefect's overhead and the seconds by
    task."""
    print("\nthe same runs, the plain reconcile (no Prefect):")
    engine = make_engine(url)
    by_task: dict[str, float] = defaultdict(float)
    plain = _runs(lambda day: _plain(engine, day, by_task), "reconcile", "")
    overhead = [a - b for a, b in zip(with_prefect, plain, strict=True)]
    print(f"{'reconcile, all runs (no Prefect)':<40} {sum(plain):7.2f} s")
    print(f"{'prefect overhead, all runs':<40} {sum(overhead):7.2f} s")
    print(
        f"{'prefect overhead per run':<40} {sum(overhead) / len(overhead):7.2f} s"
        f"  (min {min(overhead):.2f}, max {max(overhead):.2f})"
    )
    print("\nthe plain runs by task, all dates:")
    for name, seconds in sorted(by_task.items(), key=lambda item: -item[1]):
        print(f"  {name:<38} {seconds:7.2f} s")
    engine.dispose()


def _server_cpu() -> float:
    """CPU seconds used so far by this process's child `prefect server start` (Linux's /proc;
    NaN elsewhere). A PostgreSQL cluster's servers are not its children and are not counted."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command = (stat.parent / "cmdline").read_bytes()
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == os.getpid() and b"server\x00start" in command:
            return (int(fields[11]) + int(fields[12])) / ticks
    return float("nan")


@contextmanager
def _prefect_database(kind: str) -> Iterator[str | None]:
    """None (Prefect's own SQLite file), or a database on a throwaway PostgreSQL cluster."""
    if kind == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, make_url, text

    from devtools.postgres import throwaway_cluster

    with throwaway_cluster() as admin_url:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE prefect"))
        admin.dispose()
        url = make_url(admin_url).set(drivername="postgresql+asyncpg", database="prefect")
        yield url.render_as_string(hide_password=False)


def _run(day: dt.date, url: str, announced: list[int]) -> str:
    result = campaign_flow("BENCH", day, "bench", url)
    events = announcements("BENCH", day, result.notices, get_settings().events_per)
    announced.append(len(events))
    return f"{result.transitions:,} transitions, {len(result.notices):,} notices"


def _plain(engine: Engine, day: dt.date, by_task: dict[str, float]) -> str:
    """A run through the plain reconcile, its seconds added up by task as each task ends."""
    last = time.perf_counter()

    def ended(task: str, _total: int) -> None:
        nonlocal last
        now = time.perf_counter()
        by_task[task] += now - last
        last = now

    result, _ = reconcile(engine, "BENCH", day, "bench", progress=ended)
    return f"{result.transitions:,} transitions, {len(result.notices):,} notices"


def _status(engine: object) -> str:
    with transaction(engine) as session:  # type: ignore[arg-type]
        status = campaign_status(session, "BENCH")
    percent = status.targets.members_self_assessed.percent
    return f"{len(status.units):,} units, {percent}% self-assessed"


if __name__ == "__main__":
    main()
