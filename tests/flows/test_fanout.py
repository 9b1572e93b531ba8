"""Issue 23's acceptance of the fan-out: a real local Prefect server, the `campaign` process work
pool, the deployments of prefect.yaml, and two `prefect worker start --pool campaign` processes.
A province's run over its districts, in four groups (`CAMPAIGN_PARTITION_GROUPS=4`, more than
the workers, each running one at a time), is executed by both workers (each child flow run names
its worker), and ends in the state of the same run in one process on a copy of the data; a
worker killed (its process group, SIGKILL) while it runs a child: the child's group is run again
by the other worker, the same end state, the audit trail verified.

The module's fixtures are shared by its tests: `make test` gives the module to one xdist worker
(conftest.py's scheduler). It takes a couple of minutes."""

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterTags,
)
from prefect.events import Event
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

import campaign.sweep
from campaign.intake.fact_sheet import import_facts
from campaign.partition import Partition
from devtools.generate import GeneratedFiles, generate, load_organisation
from flows.announce import AUTO_NOTICES, announcements
from flows.campaign_flow import run_campaign
from flows.fanout import PartitionFailed, run_partitions
from flows.partition_flow import RETRIES
from flows.prefect_server import local_prefect_server, wait_healthy
from models.audit import AuditEvent
from models.db import make_engine, migrate, transaction
from models.settings import get_settings
from models.views import NoticeView
from tests.cli_process import run_cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
CODE = "P23"
DAYS = [dt.date(2023, 5, 22)]
KILL_DAY = dt.date(2023, 6, 30)
WORKERS = ("w1", "w2")


def _prefect(*args: str) -> str:
    done = subprocess.run(
        [PREFECT, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local Prefect server with the `campaign` pool and every deployment of prefect.yaml."""
    with local_prefect_server(tmp_path_factory.mktemp("prefect"), ready=False) as api:
        wait_healthy(api)
        _prefect("work-pool", "create", "campaign", "--type", "process")
        _prefect("--no-prompt", "deploy", "--all")
        yield api


class Worker:
    """A `prefect worker start --pool campaign` process in a process group of its own."""

    def __init__(self, name: str, database_url: str, folder: Path) -> None:
        self.name = name
        env = {
            **os.environ,
            "CAMPAIGN_DATABASE_URL": database_url,
            "PREFECT_WORKER_HEARTBEAT_SECONDS": "2",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }
        self.log = (folder / f"{name}.log").open("w")
        self.process = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", "campaign", "--name", name, "--limit", "2"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the worker's process group and the flow runs it started (Prefect starts
        each in a session of its own): what a machine that dies does."""
        if self.process.poll() is None:
            runs = _descendants(self.process.pid)
            os.killpg(self.process.pid, signal.SIGKILL)
            for pid in runs:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.process.wait(30)
        self.log.close()


def _descendants(pid: int) -> list[int]:
    """The processes below `pid` (Linux: /proc), children first."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        below = parents.get(todo.pop(), [])
        found += below
        todo += below
    return found


def _load(files: GeneratedFiles, url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    load_organisation(engine, files, on=dt.date(2023, 1, 30))
    with transaction(engine) as session:
        import_facts(CODE, files.facts, session=session, actor="t", today=dt.date(2026, 1, 1))
    engine.dispose()


@pytest.fixture(scope="module")
def province(
    postgres_admin_url: str, postgres_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A generated province of 1,200 members in 5 districts with its year of facts, in two
    PostgreSQL databases: (the one the workers run, the one run in one process)."""
    files = generate(1_200, tmp_path_factory.mktemp("files"), seed=11, plan_code=CODE, districts=5)
    admin = make_engine(postgres_admin_url)
    names = [f"fanout_{os.getpid()}_{what}" for what in ("workers", "here")]
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    urls = [
        make_url(postgres_admin_url).set(database=n).render_as_string(hide_password=False)
        for n in names
    ]
    for url in urls:
        _load(files, url)
    yield urls[0], urls[1]
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def workers(
    prefect_api: str, province: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Worker]]:
    folder = tmp_path_factory.mktemp("workers")
    started = {name: Worker(name, province[0], folder) for name in WORKERS}
    deadline = time.monotonic() + 120
    with SyncPrefectClient(prefect_api) as client:  # both polling before the first run
        while {w.name for w in client.read_workers_for_work_pool("campaign")} != set(WORKERS):
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.5)
    yield started
    for worker in started.values():
        worker.kill()


def _run(url: str, day: dt.date, runs: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The campaign's run at `day` from this process, its partitions run `runs`: a partition
    per district (the province is too small to fill a chunk of `SWEEP_UNITS` units)."""
    monkeypatch.setattr(campaign.sweep, "SWEEP_UNITS", 1)
    monkeypatch.setenv("CAMPAIGN_PARTITION_RUNS", runs)
    get_settings.cache_clear()
    try:
        return run_campaign(CODE, day, actor="tester", database_url=url)
    finally:
        get_settings.cache_clear()


def _end_state(url: str) -> tuple[Any, Any, Counter[tuple[Any, ...]]]:
    """`status --format json`, `escalations --format json`, and the audit trail's transitions
    as a multiset (whichever chain, in whichever order they were appended; an entity named by
    its unit and member: the ids of screenings and nominations opened by partitions at once
    follow the order their transactions ran in)."""
    status = run_cli("status", CODE, "--format", "json", database_url=url)
    escalations = run_cli("escalations", CODE, "--format", "json", database_url=url)
    assert status.returncode == escalations.returncode == 0, status.stderr + escalations.stderr
    engine = make_engine(url)
    with transaction(engine) as session:
        rows = session.execute(
            select(
                AuditEvent.entity,
                AuditEvent.unit_id,
                AuditEvent.member_id,
                AuditEvent.trigger,
                AuditEvent.from_state,
                AuditEvent.to_state,
                AuditEvent.at,
                AuditEvent.actor,
            ).where(AuditEvent.entity != "audit_checkpoint")
        )
        moves = Counter(tuple(row) for row in rows)
    engine.dispose()
    return json.loads(status.stdout), json.loads(escalations.stdout), moves


def _same_end_state(there: str, here: str) -> None:
    status, escalations, moves = _end_state(there)
    expected = _end_state(here)
    assert status == expected[0]
    assert escalations == expected[1]
    assert (moves - expected[2], expected[2] - moves) == (Counter(), Counter())


def _children(api: str, day: dt.date) -> list[Any]:
    """The flow runs of the partition deployment for the campaign at `day`."""
    with SyncPrefectClient(api) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"campaign:{CODE}"])),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["partition"])),
        )
    return [r for r in runs if r.parameters.get("as_of") == day.isoformat()]


def _group(run: Any) -> tuple[str, ...]:
    """The keys of the partitions a child flow run reconciles."""
    return tuple(key for key, _ in run.parameters["group"])


def _worker_of(run: Any) -> str | None:
    tags = [t.removeprefix("worker:") for t in run.tags if t.startswith("worker:")]
    return tags[0] if tags else None


def test_both_workers_run_the_partitions_to_the_in_process_end_state(
    prefect_api: str,
    province: tuple[str, str],
    workers: dict[str, Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    there, here = province
    monkeypatch.setenv("CAMPAIGN_PARTITION_GROUPS", "4")
    for day in DAYS:
        fanned = _run(there, day, "auto", monkeypatch)
        alone = _run(here, day, "in-process", monkeypatch)
        assert (fanned.transitions, fanned.facts_applied) == (
            alone.transitions,
            alone.facts_applied,
        )
        children = _children(prefect_api, day)
        assert len(children) == 4 and all(c.state.is_completed() for c in children)
        keys = [key for c in children for key in _group(c)]
        assert sorted(keys) == sorted(set(keys)) and len(keys) == 5, "each district once"
        assert sorted(len(_group(c)) for c in children) == [1, 1, 1, 2]
        assert [c.name for c in children if "+1-" in c.name], "a group's run names it"
        assert {c.labels.get("prefect.worker.name") for c in children} == set(WORKERS)
        assert {_worker_of(c) for c in children} == set(WORKERS), "each child names its worker"
    _same_end_state(there, here)


def test_a_worker_killed_in_a_child_run_the_child_is_run_again(
    prefect_api: str,
    province: tuple[str, str],
    workers: dict[str, Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    there, here = province
    killed: list[str] = []
    pids: list[int] = []

    def kill_the_first_running_child() -> None:
        deadline = time.monotonic() + 400
        while not killed and time.monotonic() < deadline:
            for child in _children(prefect_api, KILL_DAY):
                worker = child.labels.get("prefect.worker.name")
                if child.state is not None and child.state.is_running() and worker in workers:
                    workers[worker].kill()
                    killed.append(str(worker))
                    pids.append(int(str(child.infrastructure_pid).rsplit(":", 1)[-1]))
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_first_running_child)
    killer.start()
    fanned = _run(there, KILL_DAY, "auto", monkeypatch)
    killer.join()
    assert killed, "no child was seen running"
    assert pids and not any(Path(f"/proc/{pid}").exists() for pid in pids), "it was killed"
    alone = _run(here, KILL_DAY, "in-process", monkeypatch)
    children = _children(prefect_api, KILL_DAY)
    crashed = [c for c in children if c.state.is_crashed()]
    # the killed worker's running child, and any it had taken but not started (left Pending)
    named = {c.labels.get("prefect.worker.name") for c in crashed}
    assert crashed and named - {None} == set(killed)
    for group in {_group(c) for c in crashed}:  # each group run again, once
        again = [c for c in children if _group(c) == group]
        assert sorted(c.state.type.value for c in again) == ["COMPLETED", "CRASHED"]
    assert fanned.transitions == alone.transitions
    _same_end_state(there, here)
    verified = run_cli("audit", "verify", database_url=there)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_partition_that_fails_after_its_retries_fails_the_run_naming_it(
    prefect_api: str,
    province: tuple[str, str],
    workers: dict[str, Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A child flow run that raises (here: a campaign its worker's database does not hold) is
    run again by Prefect (the flow's retries), then fails the parent with its partitions."""
    monkeypatch.setenv("CAMPAIGN_PARTITION_RUNS", "deployment")
    monkeypatch.setenv("CAMPAIGN_PARTITION_GROUPS", "1")
    get_settings.cache_clear()
    parts = [Partition("D09", ["/X/"]), Partition("D10", ["/Y/"])]
    try:
        with pytest.raises(PartitionFailed, match="partitions D09, D10 of NOPE as of 2023-06-30"):
            run_partitions("NOPE", KILL_DAY, "tester", province[0], parts, print)
    finally:
        get_settings.cache_clear()
    with SyncPrefectClient(prefect_api) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["campaign:NOPE"]))
        )
    assert [(r.state and r.state.is_failed(), r.run_count) for r in runs] == [(True, 1 + RETRIES)]


def test_a_day_of_many_notices_is_announced_in_few_events() -> None:
    """CAMPAIGN_EVENTS_PER=auto (the default): a day of few notices, one event each; of many,
    one per partition, ladder step and level (1,000 notices at most), whatever the number of
    late units: each lists its units in its payload (what the `campaign-step` automation
    writes) and names the first ones as related resources."""
    notices = [
        NoticeView(
            unit=f"U{i}",
            unit_name=f"Chi bộ {i}",
            step="overdue" if i % 3 else "escalation",
            level=i % 3,
            obligations=["self_assess"],
            members=1,
            document=f"notice:U{i}:overdue:0:2023-05-22",
        )
        for i in range(9_000)
    ]
    part_of = {f"U{i}": f"D0{i % 4}" for i in range(8_990)}  # the last 10: the owner's own
    day = dt.date(2023, 5, 22)
    few = announcements(CODE, day, notices[:AUTO_NOTICES], "auto", part_of=part_of)
    assert len(few) == AUTO_NOTICES
    many = announcements(CODE, day, notices, "auto", part_of=part_of)
    groups = {(part_of.get(n.unit, "owner"), n.step, n.level) for n in notices}
    assert len(groups) == 4 * 3 + 3
    assert len(many) == len(groups), "each group under 1,000 notices: one event"
    for event in many:
        partition = event["resource"]["campaign.partition"]
        listed = [n["unit"] for n in event["payload"]["notices"]]
        assert {part_of.get(u, "owner") for u in listed} == {partition}
        assert [r["campaign.unit"] for r in event["related"]] == listed[: len(event["related"])]
        Event(**event)
    listed = [n["unit_name"] for e in many for n in e["payload"]["notices"]]
    assert sorted(listed) == sorted(n.unit_name for n in notices)
    assert len(announcements(CODE, day, notices * 3, "partition", part_of=part_of)) <= 3 * len(
        groups
    )
