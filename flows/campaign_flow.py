"""The campaign flow: a reconcile at a date (SPEC §4) as a Prefect flow run. Each business step
of `campaign.reconcile` is one task here, a thin wrapper that resolves the database and calls
it; the flow calls them in the order of `campaign.reconcile.TASKS`.

A run holds its campaign's lock from start to end (`campaign.lock`): two runs of one campaign never
work at once. It first finishes the work of any run a kill or a crash left unfinished (re-running
its date), and announces every notice not yet announced, its own and any left behind.

The database URL a flow receives names the database without its password (Prefect publishes a
flow's parameters): `flows.database_url` finds the real one."""

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from campaign import reconcile
from campaign.lock import campaign_lock
from campaign.partition import Partition, partitions
from campaign.reconcile import Progress
from campaign.run_record import UnfinishedRun, check_run, unfinished_runs
from flows.announce import announce, publish_head, publish_progress, publish_summary
from flows.database_url import DATABASE, database, database_name, refuse_password
from flows.fanout import run_partitions
from models.calendar import today
from models.db import get_engine, transaction
from models.errors import OutOfScope
from models.views import CampaignStatus, NoticeView, RunResult
from states.actors import check_actor

# The observer of the runs this context starts; Prefect's engine runs a flow and its tasks in
# copies of the caller's context, which carry it.
PROGRESS: ContextVar[Progress | None] = ContextVar("campaign_progress", default=None)


@task(name="start-run")
def start_run(
    code: str, as_of: dt.date, actor: str, url: str | None, resume: int | None = None
) -> tuple[int, int]:
    """`campaign.reconcile.start_run`, recording this flow run's id with the run."""
    flow_run_id = str(flow_run.get_id() or "") or None
    return reconcile.start_run(
        database(url), code, as_of, actor, resume=resume, flow_run_id=flow_run_id
    )


@task(name="deploy-plan")
def deploy_plan(code: str, as_of: dt.date, actor: str, url: str | None) -> tuple[int, int]:
    """`campaign.reconcile.deploy_plan`: (obligations created, facts applied); the plans the
    units issued are taken in by their partitions."""
    return reconcile.deploy_plan(database(url), code, as_of, actor, plans=False)


@task(name="reconcile-owner")
def reconcile_owner(
    code: str, as_of: dt.date, actor: str, url: str | None, parts: list[Partition]
) -> dict[str, int]:
    """`campaign.reconcile.reconcile_owner`: the owner's own part, once the partitions are
    done (facts of the units in none of them, the owner's own obligations)."""
    return reconcile.reconcile_owner(database(url), code, as_of, actor, parts)


@task(name="escalate")
def escalate(code: str, as_of: dt.date, actor: str, url: str | None) -> list[NoticeView]:
    """`campaign.reconcile.escalate`: the notices issued (announced after the tasks)."""
    return reconcile.escalate(database(url), code, as_of, actor)


@task(name="finish-run")
def finish(
    code: str,
    as_of: dt.date,
    actor: str,
    url: str | None,
    run_id: int,
    first_seq: int,
    counts: dict[str, int],
) -> tuple[int, CampaignStatus]:
    """`campaign.reconcile.finish`: the run's transitions and the campaign's progress."""
    return reconcile.finish(database(url), code, as_of, actor, run_id, first_seq, counts)


def run_tasks(
    code: str, day: dt.date, actor: str, url: str | None, resume: int | None = None
) -> tuple[RunResult, CampaignStatus]:
    """The reconcile's tasks as task runs of this flow run, in the order of
    `campaign.reconcile.reconcile` (for the unfinished run `resume`, its record taken up): the
    partitions as child flow runs on the `campaign` pool's workers when a Prefect server has
    the deployment, else as tasks here one after another (`flows.fanout`)."""
    parts = partitions(database(url), code)
    done = reconcile.progress_teller(PROGRESS.get(), reconcile.task_count(parts))
    run_id, first_seq = start_run(code, day, actor, url, resume)
    done(start_run.name)
    created, applied = deploy_plan(code, day, actor, url)
    done(deploy_plan.name)
    # Each part returns how many facts it applied.
    for part in run_partitions(code, day, actor, url, parts, done):
        applied += int(part.get("facts_applied", 0))
    applied += reconcile_owner(code, day, actor, url, parts)["facts_applied"]
    done(reconcile_owner.name)
    notices = escalate(code, day, actor, url)
    done(escalate.name)
    counts = {"facts_applied": applied, "obligations_created": created}
    # The notices go round the tasks, not through them: Prefect walks every task's parameters
    # (seconds for a few thousand notices).
    finished = finish(code, day, actor, url, run_id, first_seq, counts)
    done(finish.name)
    return reconcile.run_result(code, day, counts, notices, finished), finished[1]


@flow(name="campaign", log_prints=False)
def campaign_flow(
    code: str, as_of: dt.date | None = None, actor: str = "system", database_url: str | None = None
) -> RunResult:
    """Reconcile campaign `code` at `as_of` (default: today in Asia/Ho_Chi_Minh), holding the
    campaign's lock; `database_url` names the database without its password (default: the
    worker's `CAMPAIGN_DATABASE_URL`)."""
    started = time.perf_counter()
    day = as_of or today()
    refuse_password(database_url)
    actor = _checked(actor)
    with campaign_lock(database(database_url), code, day):
        finish_unfinished(code, day, database_url)
        result, status = run_tasks(code, day, actor, database_url)
        announce(code, database_url)
        result.audit_head = publish_head(code, day, database_url)
    publish_progress(status)
    result.seconds = time.perf_counter() - started
    result.flow_run = str(flow_run.get_id() or "") or None
    publish_summary(result)
    get_run_logger().info("%s as of %s: %d transitions", code, day, result.transitions)
    return result


def _checked(actor: str) -> str:
    """The run's actor by the CLI's rule (a deployment's parameter is free text; the schedule
    may record `system`), refused before any work: one length limit on both backends."""
    try:
        return check_actor(actor, scheduled=True)
    except ValueError as exc:
        raise OutOfScope(f"actor {actor[:64]!r} {exc}") from exc


def finish_unfinished(code: str, day: dt.date, url: str | None) -> None:
    """Finish the work of the runs a kill or a crash left unfinished, up to `day`: each re-run
    at its own date (exact: a date re-run changes only what was left undone), its Prefect flow
    run marked crashed. A later unfinished run is left to `start_run` to refuse."""
    with transaction(database(url)) as session:
        left = unfinished_runs(session, code)
    for run in left:
        if run.as_of > day:
            break
        get_run_logger().warning(
            "%s: finishing run %d as of %s, left unfinished", code, run.id, run.as_of
        )
        _mark_crashed(run)
        token = PROGRESS.set(None)  # the observer follows this run's own tasks, counted once
        try:
            run_tasks(code, run.as_of, run.actor, url, resume=run.id)
        finally:
            PROGRESS.reset(token)


def _mark_crashed(run: UnfinishedRun) -> None:
    """Mark the Prefect flow run of an unfinished run crashed, if Prefect still thinks it is
    running; a failure to do so is only logged (it must not stop the run that found it)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    if not run.flow_run_id or run.flow_run_id == str(flow_run.get_id() or ""):
        return
    try:
        with get_client(sync_client=True) as client:
            found = client.read_flow_run(uuid.UUID(run.flow_run_id))
            if found.state is not None and (found.state.is_running() or found.state.is_pending()):
                message = (
                    f"the process of campaign run {run.id} (as of {run.as_of}) died; "
                    "a later run finished its work"
                )
                client.set_flow_run_state(found.id, Crashed(message=message), force=True)
    except Exception as exc:  # Prefect's bookkeeping never fails the campaign's run
        get_run_logger().warning("flow run %s not marked crashed: %s", run.flow_run_id, exc)


def run_campaign(
    code: str,
    as_of: dt.date,
    *,
    actor: str,
    database_url: str,
    progress: Progress | None = None,
) -> RunResult:
    """Run the campaign flow from the CLI, holding the campaign's lock and refusing a bad date
    before Prefect starts; `progress` is told as each of its tasks ends. The flow is handed the
    URL through this context, its parameter names the database without the password."""
    with campaign_lock(get_engine(database_url), code, as_of):
        with transaction(get_engine(database_url)) as session:
            check_run(session, code, as_of)
        tokens = PROGRESS.set(progress), DATABASE.set(database_url)
        try:
            with _run_logs_to_prefect_only():
                return campaign_flow(code, as_of, actor, database_name(database_url))
        finally:
            DATABASE.reset(tokens[1])
            PROGRESS.reset(tokens[0])


class _RunLogs(logging.Filter):
    """Lets through what is not a flow's or task's own log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))


@contextmanager
def _run_logs_to_prefect_only() -> Iterator[None]:
    """Keep the flow's and its tasks' logs off the terminal (Prefect's API still records them):
    a task that fails reaches the CLI as its exception, printed as one `error:` line, where
    Prefect's console would print the failure again with its tracebacks (over 100 lines)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    handlers = [
        handler
        for name in ("prefect", "")
        for handler in logging.getLogger(name).handlers
        if isinstance(handler, PrefectConsoleHandler)
    ]
    quiet = _RunLogs()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
