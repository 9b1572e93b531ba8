"""Runs the console starts: in its own process, on a background thread calling what
`campaign run` calls, or through the `on-demand` deployment; either way the page is answered at
once and the run followed by its handle (one run of a campaign at a time: campaign/lock.py)."""

import datetime as dt
import secrets
import threading
from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlalchemy import Engine

from flows.on_demand import prefect_server_configured, start_on_demand
from models.errors import CampaignError
from models.settings import get_settings
from models.views import RunResult


@dataclass
class Job:
    """A run started in this process: where it stands, then its result or what stopped it."""

    code: str
    as_of: dt.date
    actor: str
    state: str = "running"  # running | completed | failed
    task: str = ""
    done: int = 0
    total: int = 0
    result: RunResult | None = None
    error: list[str] = field(default_factory=list)


def through_deployment() -> bool:
    """Whether runs go through the on-demand deployment (settings' console_runs; `auto`:
    when a Prefect server is configured)."""
    chosen = get_settings().console_runs
    return chosen == "deployment" or (chosen == "auto" and prefect_server_configured())


def start(app: FastAPI, code: str, as_of: dt.date, actor: str) -> str:
    """Start a run of campaign `code` at `as_of` by `actor`; the handle its page follows: the
    flow run's id (deployment), or the id of a job of this process."""
    engine: Engine = app.state.engine
    url = engine.url.render_as_string(hide_password=False)
    if through_deployment():
        return start_on_demand(code, as_of, actor=actor, database_url=url)
    job = Job(code, as_of, actor)
    handle = secrets.token_hex(8)
    _jobs(app)[handle] = job
    threading.Thread(target=_run, args=(job, url), name=f"run-{code}", daemon=True).start()
    return handle


def job_of(app: FastAPI, handle: str) -> Job | None:
    """The job of this process behind `handle`, if it is one."""
    return _jobs(app).get(handle)


_LOCK = threading.Lock()


def _jobs(app: FastAPI) -> dict[str, Job]:
    with _LOCK:
        if not hasattr(app.state, "run_jobs"):
            app.state.run_jobs = {}
        jobs: dict[str, Job] = app.state.run_jobs
        return jobs


def _run(job: Job, url: str) -> None:
    """The run, as `campaign run` makes it (its lock, its date check, its Prefect flow run)."""
    from flows.campaign_flow import run_campaign

    def task_ended(task: str, total: int) -> None:
        job.task, job.total, job.done = task, total, job.done + 1

    try:
        job.result = run_campaign(
            job.code, job.as_of, actor=job.actor, database_url=url, progress=task_ended
        )
        job.state = "completed"
    except CampaignError as exc:
        job.error, job.state = exc.lines(), "failed"
    except Exception as exc:  # a thread's failure must reach its page, whatever it is
        job.error, job.state = [f"{type(exc).__name__}: {exc}"], "failed"
