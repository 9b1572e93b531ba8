"""The whole 2023 timeline of a generated nation on PostgreSQL, its partitions reconciled in this
process or by Prefect process workers (issue 23's figures).

    .venv/bin/python bench/scale_out.py --members 200000 --workers 0|K [--events-per step]

A throwaway PostgreSQL cluster (devtools/postgres.py) holds the campaign's database and the
Prefect server's (the server runs on PostgreSQL either way). With --workers 0 the campaign flow
runs in this process, its partitions one after another; with K >= 1 the `partition` deployment
of prefect.yaml goes to the `campaign` process work pool and K `prefect worker start --pool
campaign` processes take the partitions' child flow runs. The same dates then run through the
plain reconcile (`campaign.reconcile.reconcile`, no Prefect) on a copy of the database taken
before the first run: the difference is Prefect's share. Prints each step's seconds, our time
per member, Prefect's share, the events Prefect stored, the child runs each worker took, and
the peak RSS (VmHWM) of every process: this one, the Prefect server, each worker and the
flow-run processes it starts, the PostgreSQL server and its backends, read from /proc every half
second (a process living less than that may go unseen). The machine's speed is probed before and
after, as bench/timeline.py does. A worker takes a child run at its next poll of the pool
(PREFECT_WORKER_QUERY_SECONDS, passed on to the workers; Prefect's default is 10 s)."""

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from campaign.reconcile import reconcile
from campaign.status import campaign_status
from devtools.generate import generate
from devtools.postgres import throwaway_cluster
from devtools.process_peaks import ProcessPeaks
from flows.campaign_flow import campaign_flow
from flows.prefect_server import local_prefect_server
from models.db import make_engine, migrate, transaction
from models.settings import get_settings

# The dates bench/timeline.py runs at.
DATES = [
    f"2023-{day}"
    for day in (
        "02-01",
        "02-15",
        "02-16",
        "03-31",
        "05-12",
        "05-19",
        "05-20",
        "05-27",
        "06-23",
        "06-30",
    )
]
CODE = "BENCH"
POOL = "campaign"
PROJECT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")


def _machine_speed() -> float:
    """Seconds for a 10-million-iteration Python loop (as bench/timeline.py): this machine's
    speed varies by a fifth from one hour to the next."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def _step(label: str, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.2f} s  {result if result is not None else ''}", flush=True)
    return seconds


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="0: the partitions in this process; K: K process workers on the `campaign` pool",
    )
    parser.add_argument(
        "--events-per",
        choices=["notice", "step"],
        default=None,
        help="the runs' Prefect events (CAMPAIGN_EVENTS_PER; default: as configured)",
    )
    return parser.parse_args()


def main() -> None:
    """Run the timeline and print its figures."""
    args = _arguments()
    if args.events_per:
        os.environ["CAMPAIGN_EVENTS_PER"] = args.events_per
    os.environ["CAMPAIGN_PARTITION_RUNS"] = "deployment" if args.workers else "in-process"
    get_settings.cache_clear()
    print(f"{'machine: 10M-iteration Python loop':<44} {_machine_speed():8.2f} s", flush=True)
    with tempfile.TemporaryDirectory() as folder, throwaway_cluster() as admin_url:
        root = Path(folder)
        peaks = ProcessPeaks(make_url(admin_url).port or 5432)
        peaks.start()
        urls = _databases(admin_url)
        total = _load(args.members, root, urls["campaign"])
        _databases(admin_url, template="campaign", names=("plain",))
        flow, lines = _prefect_runs(args, root, urls, peaks)
        total += sum(flow)
        total += _step("status", lambda: _status(urls["campaign"]))
        print(f"{'whole timeline':<44} {total:8.2f} s")
        plain = _plain_runs(urls["plain"], peaks)
        peaks.stop()
    _summary(args.members, args.workers, flow, plain)
    print("\n".join(lines))
    print("\npeak RSS (VmHWM) of every process:")
    print("\n".join(peaks.report()))
    print(f"\n{'machine: the same loop, at the end':<44} {_machine_speed():8.2f} s")


def _summary(members: int, workers: int, flow: list[float], plain: list[float]) -> None:
    per = 1e6 / members
    print(f"\n{'members':<44} {members:8,}\n{'workers':<44} {workers:8}")
    for label, seconds in (
        ("runs through Prefect, all dates", sum(flow)),
        ("our own work (plain reconcile), all dates", sum(plain)),
    ):
        print(f"{label:<44} {seconds:8.2f} s  ({seconds * per:.1f} µs per member)")
    share = 1 - sum(plain) / sum(flow)
    print(f"{'Prefect share of the runs (1 - plain/flow)':<44} {100 * share:7.1f} %")


def _databases(
    admin_url: str, *, template: str | None = None, names: tuple[str, ...] = ("campaign", "prefect")
) -> dict[str, str]:
    """Create the databases `names` on the cluster (copies of `template`); their URLs by name
    (and `prefect-async` for the Prefect server's driver)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            like = f" TEMPLATE {template}" if template else ""
            connection.execute(text(f"CREATE DATABASE {name}{like}"))
    admin.dispose()
    base = make_url(admin_url)
    urls = {n: base.set(database=n).render_as_string(hide_password=False) for n in names}
    if "prefect" in names:
        asyncpg = base.set(drivername="postgresql+asyncpg", database="prefect")
        urls["prefect-async"] = asyncpg.render_as_string(hide_password=False)
    urls["plain"] = base.set(database="plain").render_as_string(hide_password=False)
    return urls


def _load(members: int, root: Path, url: str) -> float:
    """Generate the nation and import it into the database at `url`; the seconds taken."""
    files: list[Any] = []

    def made() -> str:
        files.append(generate(members, root / "data", seed=1, shape="nation", plan_code=CODE))
        counts = files[0].counts
        return ", ".join(f"{counts[k]:,} {k}" for k in ("provinces", "districts", "units", "facts"))

    total = _step("generate the nation", made)
    engine = make_engine(url)
    migrate(engine)

    def load(fn: Any, *a: Any, **k: Any) -> Any:
        with transaction(engine) as session:
            return fn(*a, session=session, **k)

    total += _step("import units", lambda: load(import_units, files[0].units).created)
    total += _step(
        "import members",
        lambda: load(import_members, files[0].members, on=dt.date(2023, 1, 30)).created,
    )
    total += _step("register plan", lambda: load(register_plan, files[0].plan)[0].code)
    new_year = dt.date(2026, 1, 1)
    total += _step(
        "import facts",
        lambda: load(import_facts, CODE, files[0].facts, actor="bench", today=new_year).recorded,
    )
    engine.dispose()
    return total


def _runs(work: Callable[[dt.date], str], verb: str) -> list[float]:
    """`work(day)` at every date (twice at the date before the campaign closes); the seconds."""
    seconds = []
    for day in DATES:
        as_of = dt.date.fromisoformat(day)
        seconds.append(_step(f"{verb} as of {day}", lambda d=as_of: work(d)))  # type: ignore[misc]
        if day == "2023-06-23":  # the campaign closes at the next date
            seconds.append(_step(f"{verb} again as of {day}", lambda d=as_of: work(d)))  # type: ignore[misc]
    return seconds


def _prefect_runs(
    args: argparse.Namespace, root: Path, urls: dict[str, str], peaks: ProcessPeaks
) -> tuple[list[float], list[str]]:
    """The timeline through the campaign flow on a Prefect server on PostgreSQL (and K
    workers): the runs' seconds, and the lines that report what Prefect did besides."""
    url = urls["campaign"]
    with local_prefect_server(root / "prefect", database_url=urls["prefect-async"]):
        with _workers(args.workers, url, root, peaks):
            peaks.sample()  # the server and the workers watched
            before = peaks.cpu()
            seconds = _runs(lambda day: _run(day, url), "run")
            used = _cpu_used(before, peaks.cpu())
        events = _stored_events(urls["prefect"])
    lines = [
        f"{'Prefect events stored (campaign.*)':<44} {events['campaign']:8,}",
        f"{'Prefect events stored (all)':<44} {events['all']:8,}",
    ]
    if args.workers:
        query = os.environ.get("PREFECT_WORKER_QUERY_SECONDS", "10 (Prefect's default)")
        lines.append(f"{'workers poll the pool every (s)':<44} {query:>8}")
    for role, cpu in used.items():
        lines.append(f"{'CPU in the runs: ' + role:<44} {cpu:8.2f} s")
    for worker, runs in sorted(_runs_by_worker(urls["prefect"]).items()):
        lines.append(f"{'flow runs taken by ' + worker:<44} {runs:8,}")
    return seconds, lines


@contextmanager
def _workers(count: int, url: str, root: Path, peaks: ProcessPeaks) -> Iterator[None]:
    """`count` process workers polling the `campaign` pool, which gets the `partition`
    deployment of prefect.yaml; none for 0."""
    if not count:
        yield
        return
    env = {**os.environ, "CAMPAIGN_DATABASE_URL": url}
    for command in (
        ["work-pool", "create", POOL, "--type", "process", "--overwrite"],
        ["--no-prompt", "deploy", "--name", "partition"],
    ):
        subprocess.run([PREFECT, *command], cwd=PROJECT, env=env, check=True, capture_output=True)
    started = []
    for i in range(count):
        log = (root / f"worker-{i + 1}.log").open("w")
        command = [PREFECT, "worker", "start", "--pool", POOL, "--name", f"bench-{i + 1}"]
        worker = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=log, stderr=log)
        peaks.roots[worker.pid] = f"worker bench-{i + 1}"
        started.append(worker)
    try:
        _wait_for_workers(count)
        yield
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait(60)


def _wait_for_workers(count: int, seconds: float = 120) -> None:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            online = [w for w in client.read_workers_for_work_pool(POOL) if w.status == "ONLINE"]
        if len(online) >= count:
            return
        time.sleep(1)
    raise RuntimeError(f"{count} workers did not come online on pool {POOL} in {seconds:.0f} s")


def _run(day: dt.date, url: str) -> str:
    result = campaign_flow(CODE, day, "bench", url)
    return f"{result.transitions:,} transitions, {len(result.notices):,} notices"


def _plain_runs(url: str, peaks: ProcessPeaks) -> list[float]:
    """The same runs through the plain reconcile on the copy taken before the first run."""
    print("\nthe same runs, the plain reconcile (no Prefect):", flush=True)
    engine = make_engine(url)

    def plain(day: dt.date) -> str:
        result, _ = reconcile(engine, CODE, day, "bench")
        return f"{result.transitions:,} transitions, {len(result.notices):,} notices"

    before = peaks.cpu()
    seconds = _runs(plain, "reconcile")
    for role, cpu in _cpu_used(before, peaks.cpu()).items():
        print(f"{'CPU in the plain runs: ' + role:<44} {cpu:8.2f} s")
    engine.dispose()
    return seconds


def _cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {role: cpu - before.get(role, 0.0) for role, cpu in sorted(after.items())}


def _stored_events(url: str) -> Counter[str]:
    """How many events the Prefect server stored, once their number stops growing (the server
    writes them in the background)."""
    engine = create_engine(url)
    last, counts = -1, Counter[str]()
    for _ in range(30):
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT count(*), count(*) FILTER (WHERE event LIKE 'campaign.%') FROM events")
            ).one()
        counts = Counter(all=row[0], campaign=row[1])
        if counts["all"] == last:
            break
        last = counts["all"]
        time.sleep(2)
    engine.dispose()
    return counts


def _runs_by_worker(url: str) -> Counter[str]:
    """The flow runs each worker took (the label its worker set), from Prefect's database."""
    engine = create_engine(url)
    query = "SELECT labels->>'prefect.worker.name', count(*) FROM flow_run GROUP BY 1"
    with engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    engine.dispose()
    return Counter({name or "this process (no worker)": n for name, n in rows})


def _status(url: str) -> str:
    engine = make_engine(url)
    with transaction(engine) as session:
        status = campaign_status(session, CODE)
    engine.dispose()
    percent = status.targets.members_self_assessed.percent
    return f"{len(status.units):,} units, {percent}% self-assessed"


if __name__ == "__main__":
    main()
