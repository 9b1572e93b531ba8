"""The campaign flow: a reconcile at a date (SPEC §4). Its tasks — deploy plan, hold branch
sessions, collect reports, screen members, commend exemplars, report upward, and the deadline
sweep per chunk of districts — each run in their own transaction, set-based; re-running any of
them at the same date changes nothing, so a crash is finished by running again.

A run holds its campaign's lock from start to end (`campaign.lock`): two runs of one campaign never
work at once. It first finishes the work of any run a kill or a crash left unfinished (re-running
its date), and announces every notice not yet announced, its own and any left behind.

The database URL a flow receives names the database without its password (Prefect publishes a
flow's parameters): the process reads the real URL from `CAMPAIGN_DATABASE_URL`, from the CLI
that started the flow, or from a Prefect Secret block."""

import datetime as dt
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Protocol

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event
from prefect.runtime import flow_run
from prefect.settings import get_current_settings
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from campaign import apply, deploy
from campaign.lock import campaign_lock
from campaign.notices import STEP_TITLES, issue_notices, mark_announced, pending_notices
from campaign.run_record import (
    UnfinishedRun,
    advance_campaign,
    audit_seq,
    begin_run,
    check_run,
    close_when_synthesised,
    finish_run,
    unfinished_runs,
)
from campaign.status import campaign_status
from campaign.sweep import chunks_of_units, sweep
from models.calendar import today
from models.campaigns import Campaign, get_campaign
from models.db import get_engine, transaction
from models.errors import OutOfScope
from models.facts import FactKind
from models.settings import EventsPer, get_settings
from models.units import Unit, UnitKind, roster_revision
from models.views import AuditHeadView, CampaignStatus, NoticeView, RunResult
from states.actors import check_actor
from states.audit_chain import chain_head
from states.conditions import ladder_context
from states.engine import FireContext
from templates.filters import markdown_text

# The real URL of the database, handed by the CLI to the flow it starts in this process (a
# flow's parameters are published by Prefect; this never is). Prefect runs a flow and its tasks
# in copies of the caller's context, which carry it.
DATABASE: ContextVar[str | None] = ContextVar("campaign_database", default=None)
HIDDEN = "***"


def database_name(url: str | None) -> str | None:
    """The URL as a flow's parameter may carry it: its password, if any, hidden."""
    if url is None:
        return None
    return _parsed(url).render_as_string(hide_password=True)


def refuse_password(url: str | None) -> None:
    """Refuse a flow parameter that carries a database password (Prefect would publish it)."""
    if url is not None and _parsed(url).password not in (None, HIDDEN):
        raise OutOfScope(
            f"the database URL given to the flow ({database_name(url)}) holds a password, which "
            "Prefect would publish with the flow run: give the flow the URL without it and set "
            "the real one in CAMPAIGN_DATABASE_URL where the flow runs, or in the Prefect "
            f"Secret block '{get_settings().database_secret_block}'"
        )


def real_url(named: str | None) -> str:
    """The URL to connect with to the database `named` (default: the configured one): `named`
    itself unless its password is hidden; then the configured URL of that name, from the CLI
    that started this flow, `CAMPAIGN_DATABASE_URL`, or the Prefect Secret block."""
    if named is None:
        return DATABASE.get() or _configured() or get_settings().database_url
    if _parsed(named).password != HIDDEN:
        return named
    for candidate in (DATABASE.get(), _configured(), _secret_url()):
        if candidate and database_name(candidate) == named:
            return candidate
    raise OutOfScope(
        f"the password of database {named} is not known here: set CAMPAIGN_DATABASE_URL where "
        f"the flow runs, or the Prefect Secret block '{get_settings().database_secret_block}'"
    )


def _parsed(url: str) -> Any:
    try:
        return make_url(url)
    except ArgumentError as exc:  # the message quotes the URL: never repeat it
        raise OutOfScope("the database URL is not a valid SQLAlchemy URL") from exc


def _configured() -> str | None:
    """`CAMPAIGN_DATABASE_URL` (or .env), when it is set."""
    settings = get_settings()
    return settings.database_url if "database_url" in settings.model_fields_set else None


@lru_cache
def _secret_url() -> str | None:
    """The URL in the Prefect Secret block, if there is one (read once per process)."""
    from prefect.blocks.system import Secret

    try:
        block: Any = Secret.load(get_settings().database_secret_block)  # sync: no event loop
        return str(block.get())
    except (ValueError, RuntimeError):  # no such block
        return None


@contextmanager
def _campaign(url: str | None, code: str) -> Iterator[tuple[Session, Campaign]]:
    with transaction(get_engine(real_url(url))) as session:
        yield session, get_campaign(session, code)


def _ctx(campaign: Campaign, as_of: dt.date, actor: str) -> FireContext:
    ladder = campaign.plan_file.escalation
    return ladder_context(
        actor=actor,
        as_of=as_of,
        campaign_id=campaign.id,
        remind_days_before=ladder.remind_days_before,
        step_days=ladder.step_days,
        calendar=ladder.working_calendar(),
    )


@task(name="start-run")
def start_run(
    code: str, as_of: dt.date, actor: str, url: str | None, resume: int | None = None
) -> tuple[int, int]:
    """Record the run (refusing a date in the past), or take up the unfinished run `resume`,
    and move the campaign's own lifecycle; returns (run id, audit seq)."""
    with _campaign(url, code) as (session, campaign):
        if resume is None:
            flow_run_id = flow_run.get_id()
            started = begin_run(session, code, as_of, actor, str(flow_run_id or "") or None)
        else:
            started = resume, audit_seq(session)
        advance_campaign(session, campaign, _ctx(campaign, as_of, actor))
        return started


@task(name="deploy-plan")
def deploy_plan(code: str, as_of: dt.date, actor: str, url: str | None) -> tuple[int, int]:
    """Create every obligation and self-assessment the plan sets (only what is missing, and only
    when the roster moved since the last deployment), and take in the implementation plans the
    grassroots organisations issued; returns (obligations created, facts applied)."""
    created = 0
    with _campaign(url, code) as (session, campaign):
        revision = roster_revision(session)
        if campaign.deployed_revision != revision:
            created, last_id = deploy.deploy_obligations(session, campaign)
            deploy.deploy_assessments(session, campaign)
            if created:
                apply.stage_created(session, campaign, as_of, last_id)
            campaign.deployed_revision = revision
        apply.stage_unit_evidence(session, campaign, as_of, "issue_plan", FactKind.plan_issued)
        return created, apply.mark_applied(session, campaign, as_of, [FactKind.plan_issued])


@task(name="hold-branch-sessions")
def hold_branch_sessions(code: str, as_of: dt.date, actor: str, url: str | None) -> int:
    """Take in the thematic sessions and optional activities the units held."""
    with _campaign(url, code) as (session, campaign):
        apply.stage_session_evidence(session, campaign, as_of)
        kinds = [FactKind.session_held, FactKind.activity_held]
        return apply.mark_applied(session, campaign, as_of, kinds)


@task(name="collect-reports")
def collect_reports(code: str, as_of: dt.date, actor: str, url: str | None) -> int:
    """Take in the members' self-assessments (leader and regular variants)."""
    with _campaign(url, code) as (session, campaign):
        ctx = _ctx(campaign, as_of, actor)
        apply.stage_member_evidence(session, campaign, as_of)  # before the facts are applied
        return apply.apply_lifecycle_facts(session, campaign, apply.ASSESSMENT_KINDS, ctx)


@task(name="screen-members")
def screen_members(code: str, as_of: dt.date, actor: str, url: str | None) -> int:
    """Advance the screening cases of weak members."""
    with _campaign(url, code) as (session, campaign):
        ctx = _ctx(campaign, as_of, actor)
        return apply.apply_lifecycle_facts(session, campaign, apply.SCREENING_KINDS, ctx)


@task(name="commend-exemplars")
def commend_exemplars(code: str, as_of: dt.date, actor: str, url: str | None) -> int:
    """Advance the nominations of exemplary members and organisations."""
    with _campaign(url, code) as (session, campaign):
        ctx = _ctx(campaign, as_of, actor)
        return apply.apply_lifecycle_facts(session, campaign, apply.COMMENDATION_KINDS, ctx)


@task(name="report-upward")
def report_upward(code: str, as_of: dt.date, actor: str, url: str | None) -> int:
    """Take in the grassroots reports and the committee's synthesis."""
    with _campaign(url, code) as (session, campaign):
        apply.stage_unit_evidence(
            session, campaign, as_of, "report_upward", FactKind.report_submitted
        )
        return apply.mark_applied(session, campaign, as_of, [FactKind.report_submitted])


@task(name="deadline-sweep")
def deadline_sweep(
    code: str,
    as_of: dt.date,
    actor: str,
    url: str | None,
    paths: list[str],
    subtree: bool = True,
) -> int:
    """Judge every obligation of a chunk of districts (or the committee's own) at the date."""
    with _campaign(url, code) as (session, campaign):
        return sweep(session, campaign.id, paths, _ctx(campaign, as_of, actor), subtree=subtree)


@task(name="escalate")
def escalate(code: str, as_of: dt.date, actor: str, url: str | None) -> list[NoticeView]:
    """Issue one notice per unit and ladder step (announced as Prefect events by the flow)."""
    with _campaign(url, code) as (session, campaign):
        owner = session.get_one(Unit, campaign.owner_id)
        return issue_notices(session, campaign, as_of, owner)


# Each ladder step's event name (SPEC §6: reminded, overdue, escalation).
EVENT_NAMES = {"reminder": "campaign.obligation.reminded"}

# The related resources Prefect's events worker adds to an event from the run it is emitted in
# (flow run, flow, deployment, work queue and pool, tags): room left for them when a grouped
# event names late units, within Prefect's maximum of related resources (100 by default).
RUN_RELATED = 10


def announcements(
    code: str,
    as_of: dt.date,
    notices: list[NoticeView],
    per: EventsPer,
    ids: dict[str, uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """The Prefect events (`emit_event`'s arguments) that announce the notices issued at
    `as_of`: one per notice, or one per ladder step and level naming its late units as related
    resources. An event's id is its notice's (`ids`, by document; drawn when the notice was
    stored), or derived from its notices' ids, so sending it again (a run killed before it
    recorded the announcement) is the same event, which Prefect stores once."""
    known = ids or {}
    if per == "notice":
        return [_notice_event(code, as_of, notice, known) for notice in notices]
    room = max(1, get_current_settings().server.events.maximum_related_resources - RUN_RELATED)
    steps: dict[tuple[str, int], list[NoticeView]] = {}
    for notice in notices:
        steps.setdefault((notice.step, notice.level), []).append(notice)
    return [
        _step_event(code, as_of, step, level, units[start : start + room], known)
        for (step, level), units in steps.items()
        for start in range(0, len(units), room)
    ]


# The namespace of the events' ids derived from their notices'.
EVENTS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:campaign-engine:announcement")


def _event_id(code: str, notices: list[NoticeView], ids: dict[str, uuid.UUID]) -> uuid.UUID:
    """The id of the event announcing `notices`: a lone notice's own, else derived from theirs
    (a notice without one: from its campaign and document)."""
    own = [ids.get(n.document) or uuid.uuid5(EVENTS, f"{code}\n{n.document}") for n in notices]
    return own[0] if len(own) == 1 else uuid.uuid5(EVENTS, "\n".join(map(str, own)))


def _event_name(step: str) -> str:
    return EVENT_NAMES.get(step, f"campaign.obligation.{step}")


def _unit(code: str, notice: NoticeView) -> dict[str, str]:
    """A late unit as a Prefect resource, labelled with its code and ladder level; its name is
    what Prefect's UI and a notification show."""
    return {
        "prefect.resource.id": f"campaign.{code}.unit.{notice.unit}",
        "prefect.resource.name": notice.unit_name,
        "campaign.unit": notice.unit,
        "campaign.level": str(notice.level),
    }


def _contents(notice: NoticeView) -> dict[str, Any]:
    return {
        "obligations": notice.obligations,
        "members": notice.members,
        "document": notice.document,
    }


def _notice_event(
    code: str, as_of: dt.date, notice: NoticeView, ids: dict[str, uuid.UUID]
) -> dict[str, Any]:
    return {
        "event": _event_name(notice.step),
        "id": _event_id(code, [notice], ids),
        "resource": {**_unit(code, notice), "campaign.code": code},
        "payload": {
            "as_of": as_of.isoformat(),
            "title": STEP_TITLES[notice.step],
            **_contents(notice),
        },
    }


def _step_event(
    code: str,
    as_of: dt.date,
    step: str,
    level: int,
    notices: list[NoticeView],
    ids: dict[str, uuid.UUID],
) -> dict[str, Any]:
    return {
        "event": _event_name(step),
        "id": _event_id(code, notices, ids),
        "resource": {
            "prefect.resource.id": f"campaign.{code}.step.{step}.{level}",
            "campaign.code": code,
            "campaign.step": step,
            "campaign.level": str(level),
        },
        "related": [{**_unit(code, n), "prefect.resource.role": "late-unit"} for n in notices],
        "payload": {
            "as_of": as_of.isoformat(),
            "title": STEP_TITLES[step],
            "notices": [{"unit": n.unit, **_contents(n)} for n in notices],
        },
    }


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
    """Close the campaign if its synthesis is in, record the run; return its transitions and
    the progress down to the grassroots organisations."""
    with _campaign(url, code) as (session, campaign):
        close_when_synthesised(session, campaign, _ctx(campaign, as_of, actor))
        transitions = finish_run(session, run_id, campaign, first_seq, counts)
    with _campaign(url, code) as (session, campaign):
        return transitions, campaign_status(session, code, branches=False)


# Units a deadline-sweep task judges, about: districts are grouped into tasks of this size (the
# generated province of 200,000 members in 8,890 units and 10 districts: 4 tasks instead of 10;
# each task costs Prefect 25-60 ms, and the sweep a dozen statements per scope).
SWEEP_UNITS = 3_000


def _sweep_chunks(code: str, url: str | None) -> tuple[str, list[list[str]]]:
    """The owner's path, and the chunks of district paths the sweep is split by."""
    with _campaign(url, code) as (session, campaign):
        owner = session.get_one(Unit, campaign.owner_id)
        if owner.kind != UnitKind.province.value:
            return owner.path, [[owner.path]]
        districts = list(
            session.scalars(select(Unit.path).where(Unit.parent_id == owner.id).order_by(Unit.path))
        )
        units = Counter(
            next((d for d in districts if path.startswith(d)), "")
            for path in session.scalars(select(Unit.path).where(Unit.path.startswith(owner.path)))
        )
        return owner.path, chunks_of_units([(d, units[d]) for d in districts], SWEEP_UNITS)


class Call(Protocol):
    """How `reconcile` calls a task: as a Prefect task run, or its plain function."""

    def __call__(self, task: Task[..., Any], /, *args: Any, **kwargs: Any) -> Any: ...


def as_task_run(task: Task[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call `task` as a Prefect task run of the current flow run."""
    return task(*args, **kwargs)


class Steps(Protocol):
    """Follows a run from the process that started it (the CLI's progress bar): called as each
    task ends, with its name and the run's number of tasks."""

    def __call__(self, task: str, total: int) -> None: ...


# The observer of the runs this context starts; Prefect's engine runs a flow and its tasks in
# copies of the caller's context, which carry it.
STEPS: ContextVar[Steps | None] = ContextVar("campaign_steps", default=None)

# The tasks of a run besides its deadline sweeps: start, deploy, sessions, reports, screening,
# exemplars, report upward, escalate, finish.
FIXED_STEPS = 9


def reconcile(
    code: str,
    day: dt.date,
    actor: str,
    url: str | None,
    call: Call = as_task_run,
    resume: int | None = None,
) -> tuple[RunResult, CampaignStatus]:
    """The reconcile's tasks in order (for the unfinished run `resume`, its record taken up).
    The flow calls them as task runs; `bench/timeline.py` also calls their plain functions,
    which measures what Prefect adds."""
    owner_path, chunks = _sweep_chunks(code, url)
    above = chunks != [[owner_path]]  # the committee's own synthesis sits above its districts
    call = _observed(call, FIXED_STEPS + len(chunks) + above)
    run_id, first_seq = call(start_run, code, day, actor, url, resume)
    created, applied = call(deploy_plan, code, day, actor, url)
    # Each task that takes in facts returns how many it applied.
    for step in (
        hold_branch_sessions,
        collect_reports,
        screen_members,
        commend_exemplars,
        report_upward,
    ):
        applied += call(step, code, day, actor, url)
    for paths in chunks:
        call(deadline_sweep, code, day, actor, url, paths)
    if above:
        call(deadline_sweep, code, day, actor, url, [owner_path], subtree=False)
    notices = call(escalate, code, day, actor, url)
    counts = {"facts_applied": applied, "obligations_created": created}
    # The notices go round the tasks, not through them: Prefect walks every task's parameters
    # (seconds for a few thousand notices).
    transitions, status = call(finish, code, day, actor, url, run_id, first_seq, counts)
    result = RunResult(
        campaign=code,
        as_of=day,
        state=status.state,
        transitions=transitions,
        facts_applied=applied,
        obligations_created=created,
        targets=status.targets,
        notices=notices,
    )
    return result, status


def _observed(call: Call, total: int) -> Call:
    """`call`, telling this context's observer of runs (if any) as each task ends."""
    observer = STEPS.get()
    if observer is None:
        return call

    def observed(task: Task[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        result = call(task, *args, **kwargs)
        observer(task.name, total)
        return result

    return observed


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
    with campaign_lock(get_engine(real_url(database_url)), code, day):
        finish_unfinished(code, day, database_url)
        result, status = reconcile(code, day, actor, database_url)
        announce(code, database_url)
        result.audit_head = publish_head(code, day, database_url)
    _publish_progress(status)
    result.seconds = time.perf_counter() - started
    result.flow_run = str(flow_run.get_id() or "") or None
    _publish(result)
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
    with _campaign(url, code) as (session, _):
        left = unfinished_runs(session, code)
    for run in left:
        if run.as_of > day:
            break
        get_run_logger().warning(
            "%s: finishing run %d as of %s, left unfinished", code, run.id, run.as_of
        )
        _mark_crashed(run)
        token = STEPS.set(None)  # the observer follows this run's own tasks, counted once
        try:
            reconcile(code, run.as_of, run.actor, url, resume=run.id)
        finally:
            STEPS.reset(token)


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


def announce(code: str, url: str | None) -> int:
    """Announce every notice of the campaign not yet announced (this run's and any a killed run
    left), wait until the events are sent, then record them announced; returns how many."""
    with _campaign(url, code) as (session, campaign):
        pending = pending_notices(session, campaign.id)
    if not pending:
        return 0
    by_date: dict[dt.date, list[NoticeView]] = {}
    for p in pending:
        by_date.setdefault(p.issued_on, []).append(p.notice)
    ids = {p.notice.document: p.event_id for p in pending}
    per = get_settings().events_per
    for day, notices in by_date.items():
        for event in announcements(code, day, notices, per, ids):
            emit_event(**event)
    _send_events()
    with _campaign(url, code) as (session, campaign):
        return mark_announced(session, campaign.id, list(ids))


def _send_events() -> None:
    """Wait until Prefect's events worker has sent every event emitted so far."""
    from prefect.events.utilities import should_emit_events
    from prefect.events.worker import EventsWorker

    if should_emit_events():
        EventsWorker.instance().wait_until_empty()


def publish_head(code: str, day: dt.date, url: str | None) -> AuditHeadView:
    """The audit chain's head as the run ends, announced as a Prefect event
    (`campaign.run.finished`, its resource the campaign): Prefect's own database then keeps an
    independent record of every head, which `audit verify --expect` checks."""
    with transaction(get_engine(real_url(url))) as session:
        head = chain_head(session)
    emit_event(
        "campaign.run.finished",
        resource={"prefect.resource.id": f"campaign.{code}", "campaign.code": code},
        payload={"as_of": day.isoformat(), "audit_head": head.model_dump()},
    )
    return head


def _artifact_key(code: str, what: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    cleaned = "".join(c if c.isalnum() else "-" for c in code.lower())
    return f"{cleaned}-{what}"


def _publish_progress(status: CampaignStatus) -> None:
    """A table artifact of progress by unit, down to the grassroots organisations."""
    rows = [
        {
            "unit": f"{u.code} {u.name}",
            "kind": u.kind,
            "self-assessed %": u.targets.members_self_assessed.percent,
            "leaders %": u.targets.leaders_self_assessed.percent,
            "sessions %": u.targets.branches_with_sessions.percent,
            "late": sum(o.state in ("overdue", "escalated") for o in u.obligations),
        }
        for u in status.units
    ]
    create_table_artifact(
        rows,
        key=_artifact_key(status.campaign, "progress"),
        description=f"{status.campaign}: progress by unit as of {status.as_of}",
    )


def _publish(result: RunResult) -> None:
    targets = result.targets.model_dump()
    lines = [
        f"# {markdown_text(result.campaign)} as of {result.as_of:%d/%m/%Y}",
        "",
        f"Campaign **{result.state}**, {result.transitions} transitions.",
        "",
        "| target | done | eligible | % |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {n} | {v['done']} | {v['eligible']} | {v['percent']} |" for n, v in targets.items()
    ]
    if head := result.audit_head:
        lines += [
            "",
            f"Audit head: event {head.seq}, recorded {head.recorded_at}. A reviewer keeps "
            f"`{head.seq}:{head.hash}` and checks it with `campaign audit verify --expect`.",
        ]
    lines += ["", f"## New notices ({len(result.notices)})", ""]
    lines += [
        f"- {markdown_text(n.unit)} {markdown_text(n.unit_name)}: {n.step} level {n.level} — "
        f"{', '.join(n.obligations)}" + (f", {n.members} members" if n.members else "")
        for n in result.notices[:200]
    ]
    create_markdown_artifact("\n".join(lines), key=_artifact_key(result.campaign, "summary"))


@flow(name="daily-campaigns")
def daily_campaigns(as_of: dt.date | None = None, database_url: str | None = None) -> list[str]:
    """Run every campaign that is not closed, as of today: what escalates late units daily.

    Returns the campaigns that ran; one refused (already run at a later date, or being run by
    another process) is logged."""
    refuse_password(database_url)
    with transaction(get_engine(real_url(database_url))) as session:
        codes = list(
            session.scalars(
                select(Campaign.code).where(Campaign.state != "closed").order_by(Campaign.code)
            )
        )
    ran = []
    for code in codes:
        try:
            with transaction(get_engine(real_url(database_url))) as session:
                check_run(session, code, as_of or today())
            campaign_flow(code, as_of, "system", database_url)
        except OutOfScope as refused:  # one campaign's refusal must not stop the others
            get_run_logger().warning("%s skipped: %s", code, refused)
            continue
        ran.append(code)
    return ran


def run_campaign(
    code: str, as_of: dt.date, *, actor: str, database_url: str, steps: Steps | None = None
) -> RunResult:
    """Run the campaign flow from the CLI, holding the campaign's lock and refusing a bad date
    before Prefect starts; `steps` is told as each of its tasks ends. The flow is handed the
    URL through this context, its parameter names the database without the password."""
    with campaign_lock(get_engine(database_url), code, as_of):
        with transaction(get_engine(database_url)) as session:
            check_run(session, code, as_of)
        tokens = STEPS.set(steps), DATABASE.set(database_url)
        try:
            with _run_logs_to_prefect_only():
                return campaign_flow(code, as_of, actor, database_name(database_url))
        finally:
            DATABASE.reset(tokens[1])
            STEPS.reset(tokens[0])


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
