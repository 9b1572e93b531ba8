"""A run's partitions, in a few groups, as child flow runs of the `campaign-partition/partition`
deployment, which every worker polling the `campaign` pool takes its share of (on this machine
or others); or, with no Prefect server, as tasks of the run's own flow run, one after another.
Either way each partition's work is `campaign.partition.reconcile_partition`, with the same end
state.

A child flow run is a process a worker starts (seconds of imports, and the worker's poll): one
per partition (a nation's 63 provinces) would spend more there than in the work. So a child
reconciles a group of partitions one after another: `CAMPAIGN_PARTITION_GROUPS` groups (`auto`:
as many as the live workers besides the one running the run), balanced by the members they
hold.

The parent waits for its children. A child that fails is retried by Prefect (the flow's
`retries`); one that ends failed after them fails the run, naming its partitions. A child whose
process died (its worker killed, or its machine) is crashed: when Prefect says so, or when the
worker that took it has stopped sending heartbeats, the parent marks it crashed and submits the
group again (its work is idempotent), at most `RESUBMITS` times."""

import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from campaign.partition import Partition, partition_sizes
from flows.database_url import database, database_name
from flows.partition_flow import partition_task
from models.errors import CampaignError
from models.settings import get_settings

DEPLOYMENT = "campaign-partition/partition"  # flow name / deployment name
POOL = "campaign"
POLL_SECONDS = 2.0
RESUBMITS = 2
# A worker is gone when it missed this many heartbeats (Prefect's own rule for OFFLINE).
MISSED_HEARTBEATS = 3
# A child taken by a worker starts in seconds; one Pending longer was taken by a worker that died
# before starting it (Prefect leaves it Pending, with no worker named): submitted again.
PENDING_SECONDS = 120.0


class PartitionFailed(CampaignError):
    """A group's flow run ended failed (after its retries), cancelled, or crashed too often."""


def deployment_workers() -> int | None:
    """How the partitions run (`CAMPAIGN_PARTITION_RUNS`): None in this process; else as flow
    runs of the deployment, and the number of live workers of the pool besides the one running
    this run (`auto`: the deployment when a Prefect server is configured, knows the deployment,
    and one such worker sends heartbeats)."""
    mode = get_settings().partition_runs
    if mode == "in-process":
        return None
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        if mode == "deployment":
            raise PartitionFailed("CAMPAIGN_PARTITION_RUNS=deployment needs PREFECT_API_URL")
        return None
    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(DEPLOYMENT)
            workers = [w.name for w in client.read_workers_for_work_pool(POOL)]
            gone = _gone_workers(client)
    except ObjectNotFound:
        if mode == "deployment":
            raise PartitionFailed(
                f"no deployment {DEPLOYMENT} on the Prefect server: prefect deploy --all"
            ) from None
        return None
    # `auto` waits for no worker: one besides the worker running this run must be polling
    # (a worker started with --run-once takes nothing more while it runs this run).
    mine = os.environ.get("PREFECT__WORKER_NAME")
    others = sum(1 for w in workers if w not in gone and w != mine)
    return others if mode == "deployment" or others else None


def group_count(workers: int, parts: int) -> int:
    """Into how many child flow runs `parts` partitions go with `workers` live workers
    (`CAMPAIGN_PARTITION_GROUPS`; `auto`: one a worker, the groups balanced by their members:
    a second child a worker takes costs it another poll and process start, ~4-6 s a run)."""
    wanted = get_settings().partition_groups
    return min(max(1, workers) if wanted == "auto" else wanted, parts)


def balanced_groups(parts: list[Partition], sizes: list[int], count: int) -> list[list[Partition]]:
    """`parts` in `count` groups (fewer when there are fewer parts) of about equal size: the
    largest first, each to the group that holds the least (then the fewest partitions, then
    the first); each group in the order of `parts`, the groups by their first partition."""
    count = min(count, len(parts))
    groups: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for n in sorted(range(len(parts)), key=lambda n: (-sizes[n], n)):
        least = min(range(count), key=lambda g: (loads[g], len(groups[g]), g))
        groups[least].append(n)
        loads[least] += sizes[n]
    return [[parts[n] for n in sorted(g)] for g in sorted(groups, key=min)]


def run_partitions(
    code: str,
    day: dt.date,
    actor: str,
    url: str | None,
    parts: list[Partition],
    done: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Reconcile every partition of `parts` at `day`: in groups through the deployment, or in
    this process one after another (`deployment_workers`); `done` is told as each ends. What
    each returned (its counts, its partition, its worker), in their order."""
    if not parts:
        return []
    workers = deployment_workers()
    if workers is None:
        results = []
        for part in parts:
            results.append(partition_task(code, day, actor, url, part.key, list(part.paths)))
            done(partition_task.name)
        return results
    count = group_count(workers, len(parts))
    sizes = partition_sizes(database(url), parts) if count < len(parts) else [0] * len(parts)
    children = [_Child(group) for group in balanced_groups(parts, sizes, count)]
    for child in children:
        child.submit(code, day, actor, url)
    _wait(children, code, day, actor, url, done)
    return _results(children, parts)


def _named(keys: list[str]) -> str:
    """`partition D01` or `partitions D01, D02`."""
    return f"partition {keys[0]}" if len(keys) == 1 else f"partitions {', '.join(keys)}"


@dataclass
class _Child:
    """A group of partitions' flow run as the parent follows it."""

    group: list[Partition]
    flow_run_id: uuid.UUID | None = None
    submitted: int = 0
    done: bool = False

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.group]

    @property
    def name(self) -> str:
        """The group's first partition, and how many more it holds (`D01+2`)."""
        more = len(self.group) - 1
        return f"{self.group[0].key}+{more}" if more else self.group[0].key

    def submit(self, code: str, day: dt.date, actor: str, url: str | None) -> None:
        from prefect.deployments import run_deployment

        self.submitted += 1
        parameters = {
            "code": code,
            "as_of": day.isoformat(),
            "actor": actor,
            "database_url": database_name(url),
            "group": [[p.key, list(p.paths)] for p in self.group],
        }
        run = run_deployment(
            DEPLOYMENT,
            parameters=parameters,
            timeout=0,
            as_subflow=True,
            tags=[f"campaign:{code}", *(f"partition:{k}" for k in self.keys)],
            flow_run_name=f"{code}-{day.isoformat()}-{self.name}-{self.submitted}",
        )
        self.flow_run_id = run.id  # type: ignore[union-attr]


def _wait(
    children: list[_Child],
    code: str,
    day: dt.date,
    actor: str,
    url: str | None,
    done: Callable[[str], None],
) -> None:
    """Follow the children until each completed; resubmit a crashed one, fail on a failed one."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    while not all(c.done for c in children):
        time.sleep(POLL_SECONDS)
        waiting = {c.flow_run_id: c for c in children if not c.done}
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(waiting)))
            )
            gone = _gone_workers(client)
            for run in runs:
                child, state = waiting[run.id], run.state
                if state is None:
                    continue
                worker = run.labels.get("prefect.worker.name")
                # A child a worker took and died before starting stays Pending, unlabelled.
                stuck = state.is_pending() and time.time() - state.timestamp.timestamp() > (
                    PENDING_SECONDS
                )
                orphan = stuck or ((state.is_running() or state.is_pending()) and worker in gone)
                if state.is_completed():
                    child.done = True
                    for _ in child.group:
                        done("reconcile-partition")
                elif state.is_crashed() or orphan:
                    _crashed(client, child, run, orphan, worker)
                    child.submit(code, day, actor, url)
                elif state.is_final():
                    raise PartitionFailed(
                        f"{_named(child.keys)} of {code} as of {day}: its flow run "
                        f"{run.name} ended {state.name}: {state.message or ''}".rstrip(": ")
                    )


def _crashed(client: Any, child: _Child, run: Any, orphan: bool, worker: Any) -> None:
    """Mark an orphaned child crashed (its worker is gone); refuse a child crashed too often."""
    from prefect.states import Crashed

    if orphan:
        message = (
            f"worker {worker} stopped sending heartbeats while running it"
            if worker
            else f"no worker started it within {PENDING_SECONDS:.0f} s of taking it"
        )
        client.set_flow_run_state(run.id, Crashed(message=message), force=True)
    if child.submitted > RESUBMITS:
        raise PartitionFailed(
            f"{_named(child.keys)}: its flow run crashed {child.submitted} times "
            f"(last {run.name}): see its worker's log"
        )


def _gone_workers(client: Any) -> set[str]:
    """The workers of the pool that missed `MISSED_HEARTBEATS` heartbeats."""
    now = dt.datetime.now(dt.UTC)
    gone = set()
    for worker in client.read_workers_for_work_pool(POOL):
        seconds = (worker.heartbeat_interval_seconds or 30) * MISSED_HEARTBEATS
        last = worker.last_heartbeat_time
        if last is None or (now - last).total_seconds() > seconds:
            gone.add(worker.name)
    return gone


def _results(children: list[_Child], parts: list[Partition]) -> list[dict[str, Any]]:
    """What each partition returned, read from the artifact its child left (`partition_flow`),
    in the order of `parts`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    ids = [c.flow_run_id for c in children]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids))
        )
    by_key: dict[str, dict[str, Any]] = {}
    for artifact in artifacts:
        data = artifact.data
        rows: list[dict[str, Any]] = json.loads(data) if isinstance(data, str) else []
        by_key.update((str(row.get("partition")), row) for row in rows)
    return [by_key.get(p.key, {"partition": p.key}) for p in parts]
