"""The whole 2023 timeline of a generated nation on PostgreSQL, its partitions reconciled in this
process or by Prefect process workers (issue 23's figures).

    .venv/bin/python bench/scale_out.py --members 200000 --workers 0|K[,K…] [--events-per step]

A throwaway PostgreSQL cluster (devtools/postgres.py) holds the campaign's database and the
Prefect server's (the server runs on PostgreSQL either way). The nation is generated and
imported once (each step's peak RSS printed); each number of workers then runs the timeline
on a copy of that database, with a Prefect server and database of its own. With --workers 0
the campaign flow runs in this process, its partitions one after another; with K >= 1 the
`partition` deployment of prefect.yaml goes to the `campaign` process work pool and K `prefect
worker start --pool campaign --limit 1` processes take the partitions' child flow runs, one at
a time each (a worker stands for a core: without a limit one worker runs all its runs at
once). The same dates then run once through the plain reconcile (`campaign.reconcile.reconcile`,
no Prefect) on another copy: the difference is Prefect's share.

Prints each step's seconds, our time per member, Prefect's share, the events Prefect stored,
the child runs each worker took, and the peak RSS (VmHWM) of every process: this one, the
Prefect server, each worker and the flow-run processes it starts, the PostgreSQL server and its
backends, read from /proc every half second (a process living less than that may go unseen).
The machine's speed is probed before and after, as bench/timeline.py does. A worker takes a
child run at its next poll of the pool (PREFECT_WORKER_QUERY_SECONDS, passed on to the
workers; Prefect's default is 10 s)."""

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from timeline import DATES, _machine_speed, _plain  # bench/timeline.py, beside this script

from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from campaign.status import campaign_status
from devtools.generate import generate
from devtools.postgres import throwaway_cluster
from devtools.process_peaks import ProcessPeaks
from flows.campaign_flow import campaign_flow
from flows.prefect_server import local_prefect_server
from models.db import make_engine, migrate, transaction
from models.settings import get_settings

CODE = "BENCH"
POOL = "campaign"
PROJECT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")


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
        default="0",
        help="0: the partitions in this process; K: K process workers on the `campaign` pool; "
        "several, comma-separated (e.g. 1,2): each on its own copy of one load; none: only the "
        "plain reconcile (our own time per member, without Prefect)",
    )
    parser.add_argument(
        "--events-per",
        choices=["notice", "step"],
        default=None,
        help="the runs' Prefect events (CAMPAIGN_EVENTS_PER; default: as configured)",
    )
    return parser.parse_args()


def main() -> None:
    """Load the nation once, run the timeline with each number of workers on a copy of it,
    the plain reconcile on another; print the figures."""
    args = _arguments()
    if args.events_per:
        os.environ["CAMPAIGN_EVENTS_PER"] = args.events_per
    counts = [] if args.workers == "none" else [int(k) for k in args.workers.split(",")]
    print(f"{'machine: 10M-iteration Python loop':<44} {_machine_speed():8.2f} s", flush=True)
    reports = []
    with tempfile.TemporaryDirectory() as folder, throwaway_cluster() as admin_url:
        root = Path(folder)
        port = make_url(admin_url).port or 5432
        urls = _databases(admin_url, names=("loaded",))
        load = _load(args.members, root, urls["loaded"])
        for workers in counts:
            peaks = ProcessPeaks(port)
            reports.append(_timeline(admin_url, root, workers, peaks))
        plain_url = _databases(admin_url, template="loaded", names=("plain",))["plain"]
        peaks = ProcessPeaks(port)
        peaks.start()
        plain = _plain_runs(plain_url, peaks)
        peaks.stop()
    print(f"\n{'loading the nation (generate, imports)':<44} {load:8.2f} s")
    per = 1e6 * sum(plain) / args.members
    own = "our own work (plain reconcile), all dates"
    print(f"{own:<44} {sum(plain):8.2f} s  ({per:.1f} µs per member)")
    for workers, flow, lines, rss in reports:
        _summary(args.members, workers, flow, plain)
        print("\n".join(lines))
        print("peak RSS (VmHWM) of every process in these runs:")
        print("\n".join(rss))
    print("\npeak RSS of the plain runs:\n" + "\n".join(peaks.report()))
    print(f"\n{'machine: the same loop, at the end':<44} {_machine_speed():8.2f} s")


def _timeline(
    admin_url: str, root: Path, workers: int, peaks: ProcessPeaks
) -> tuple[int, list[float], list[str], list[str]]:
    """The timeline through Prefect with `workers` workers (0: in this process), on a copy of
    the loaded database and a Prefect database of its own: (workers, the runs' seconds, what
    Prefect did, the peak RSS of every process)."""
    print(f"\nthe timeline through Prefect, {workers} workers:", flush=True)
    os.environ["CAMPAIGN_PARTITION_RUNS"] = "deployment" if workers else "in-process"
    get_settings.cache_clear()
    names = (f"campaign_{workers}", f"prefect_{workers}")
    made = _databases(admin_url, template="loaded", names=names[:1])
    made |= _databases(admin_url, names=names[1:])
    urls = {"campaign": made[names[0]], "prefect": made[names[1]]}
    urls["prefect-async"] = made[names[1] + "-async"]
    _forget_peak()
    peaks.start()
    flow, lines = _prefect_runs(workers, root / f"w{workers}", urls, peaks)
    _step("status", lambda: _status(urls["campaign"]))
    peaks.stop()
    return workers, flow, lines, peaks.report()


def _forget_peak() -> None:
    """Start this process's peak RSS (VmHWM) afresh (Linux: 5 to clear_refs), so that a run's
    figure is not the load's."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


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
    admin_url: str, *, names: tuple[str, ...], template: str | None = None
) -> dict[str, str]:
    """Create the databases `names` on the cluster (copies of `template`); their URLs by name
    (and `<name>-async` for a Prefect server's driver, for a name starting `prefect`)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            like = f" TEMPLATE {template}" if template else ""
            connection.execute(text(f"CREATE DATABASE {name}{like}"))
    admin.dispose()
    base = make_url(admin_url)
    urls = {n: base.set(database=n).render_as_string(hide_password=False) for n in names}
    for name in names:
        if name.startswith("prefect"):
            asyncpg = base.set(drivername="postgresql+asyncpg", database=name)
            urls[f"{name}-async"] = asyncpg.render_as_string(hide_password=False)
    return urls


def _load(members: int, root: Path, url: str) -> float:
    """Generate the nation and import it into the database at `url`; the seconds taken."""
    files: list[Any] = []

    def made() -> str:
        _forget_peak()
        files.append(generate(members, root / "data", seed=1, shape="nation", plan_code=CODE))
        counts = files[0].counts
        sizes = ", ".join(
            f"{counts[k]:,} {k}" for k in ("provinces", "districts", "units", "facts")
        )
        return f"{sizes}, peak RSS {_peak_mib():,.0f} MiB"

    total = _step("generate the nation", made)
    engine = make_engine(url)
    migrate(engine)

    def load(fn: Any, *a: Any, **k: Any) -> Any:
        _forget_peak()
        with transaction(engine) as session:
            done = fn(*a, session=session, **k)
        return done, f"peak RSS {_peak_mib():,.0f} MiB"

    total += _step("import units", lambda: _told(load(import_units, files[0].units), "created"))
    total += _step(
        "import members",
        lambda: _told(load(import_members, files[0].members, on=dt.date(2023, 1, 30)), "created"),
    )
    total += _step("register plan", lambda: load(register_plan, files[0].plan)[1])
    new_year = dt.date(2026, 1, 1)
    total += _step(
        "import facts",
        lambda: _told(
            load(import_facts, CODE, files[0].facts, actor="bench", today=new_year), "recorded"
        ),
    )
    engine.dispose()
    return total


def _told(done: tuple[Any, str], field: str) -> str:
    """An import's count of rows `field`, and its peak RSS."""
    summary, peak = done
    return f"{getattr(summary, field):,} {field}, {peak}"


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
    workers: int, root: Path, urls: dict[str, str], peaks: ProcessPeaks
) -> tuple[list[float], list[str]]:
    """The timeline through the campaign flow on a Prefect server on PostgreSQL (and K
    workers): the runs' seconds, and the lines that report what Prefect did besides."""
    url = urls["campaign"]
    root.mkdir(parents=True, exist_ok=True)
    with local_prefect_server(root / "prefect", database_url=urls["prefect-async"]):
        with _workers(workers, url, root, peaks):
            peaks.sample()  # the server and the workers watched
            before = peaks.cpu()
            seconds = _runs(lambda day: _run(day, url), "run")
            used = _cpu_used(before, peaks.cpu())
        events = _stored_events(urls["prefect"])
    lines = [
        f"{'Prefect events stored (campaign.*)':<44} {events['campaign']:8,}",
        f"{'Prefect events stored (all)':<44} {events['all']:8,}",
    ]
    if workers:
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
        # one child flow run at a time: a worker stands for one core's share of the machine
        command = [PREFECT, "worker", "start", "--pool", POOL, "--name", f"bench-{i + 1}"]
        command += ["--limit", "1"]
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
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:  # a worker waiting out its run's limit slot
                worker.kill()
                worker.wait()


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
    by_task: dict[str, float] = defaultdict(float)
    _forget_peak()
    before = peaks.cpu()
    seconds = _runs(lambda day: _plain(engine, day, by_task), "reconcile")
    for role, cpu in _cpu_used(before, peaks.cpu()).items():
        print(f"{'CPU in the plain runs: ' + role:<44} {cpu:8.2f} s")
    print("the plain runs by task, all dates:")
    for name, task_seconds in sorted(by_task.items(), key=lambda item: -item[1]):
        print(f"  {name:<42} {task_seconds:8.2f} s")
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
