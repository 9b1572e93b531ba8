"""A group of partitions of a campaign's run (provinces of a national campaign, districts of a
province's) as a flow run of its own, one partition after another: the
`campaign-partition/partition` deployment, which any worker of the `campaign` pool takes
(`flows.fanout` groups and submits them); or one partition as a task of the run's own flow run
when no Prefect server is configured.

Each partition's work is `campaign.partition.reconcile_partition`: one transaction per step,
idempotent, so a retried or resubmitted group changes nothing twice. A flow run of a group says
which worker ran it: a tag `worker:<name>` and each row of its result's `worker` (name, host and
process)."""

import datetime as dt
import os
import socket
import uuid
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from campaign.partition import Partition, reconcile_partition
from flows.announce import artifact_key
from flows.database_url import database, refuse_password

# How often Prefect re-runs a partition whose flow run failed (its work is idempotent).
RETRIES = 2
RETRY_DELAY_SECONDS = 5


def worker_identity() -> str:
    """Who runs this partition: the Prefect worker's name (`in-process` in the run's own
    process), its host and the process that runs the flow."""
    name = os.environ.get("PREFECT__WORKER_NAME") or "in-process"
    return f"{name}@{socket.gethostname()}:{os.getpid()}"


def _tag_worker(identity: str) -> None:
    """Add `worker:<name>` to this flow run's tags (Prefect's UI and filters show it)."""
    from prefect.client.orchestration import get_client

    run_id = flow_run.get_id()
    if not run_id:
        return
    with get_client(sync_client=True) as client:
        tags = client.read_flow_run(uuid.UUID(run_id)).tags
        tag = f"worker:{identity.split('@', 1)[0]}"
        client.update_flow_run(uuid.UUID(run_id), tags=sorted({*tags, tag}))


def reconcile_one(
    code: str, as_of: dt.date, actor: str, database_url: str | None, key: str, paths: list[str]
) -> dict[str, int]:
    """`campaign.partition.reconcile_partition` of the partition `key` at `paths`."""
    part = Partition(key, list(paths))
    return reconcile_partition(database(database_url), code, as_of, actor, part)


@flow(
    name="campaign-partition",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    log_prints=False,
)
def partition_flow(
    code: str,
    as_of: dt.date,
    actor: str,
    database_url: str | None,
    group: list[Partition],
) -> list[dict[str, Any]]:
    """Reconcile the partitions of `group` (each `[key, paths]`) of campaign `code` at `as_of`,
    one after another; `database_url` names the database without its password. Returns, for
    each, its counts, the partition and the worker that ran it."""
    refuse_password(database_url)
    identity = worker_identity()
    _tag_worker(identity)
    done = []
    for part in group:
        counts = reconcile_one(code, as_of, actor, database_url, part.key, part.paths)
        done.append({"partition": part.key, "worker": identity, **counts})
    # The parent reads it back (a flow run's result stays on the machine that ran it).
    create_table_artifact(done, key=artifact_key(code, f"partition-{group[0].key}-{len(group)}"))
    return done


@task(name="reconcile-partition", retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS)
def partition_task(
    code: str,
    as_of: dt.date,
    actor: str,
    database_url: str | None,
    partition: str,
    paths: list[str],
) -> dict[str, Any]:
    """The partition's work as a task of the run's own flow run (no Prefect server): a flow
    run per partition would cost a second each here."""
    counts = reconcile_one(code, as_of, actor, database_url, partition, paths)
    return {"partition": partition, "worker": worker_identity(), **counts}
