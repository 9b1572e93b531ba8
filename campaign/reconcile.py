"""A reconcile at a date (SPEC §4), as plain functions over an engine: start the run, deploy the
plan, take in what the units reported (sessions, self-assessments, screenings, commendations,
reports upward), judge every deadline chunk by chunk of districts, issue the notices, finish.

Each step is one transaction, set-based; re-running any of them at the same date changes
nothing, so a crash is finished by running again. The campaign flow (`flows/campaign_flow.py`)
runs each step as a Prefect task of the name in `TASKS`, in this order; `reconcile` runs them
as plain calls (the bench and the tests that need no Prefect)."""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaign import apply, deploy, roster_follow, unit_follow
from campaign.notices import issue_notices
from campaign.run_record import (
    advance_campaign,
    audit_seq,
    begin_run,
    close_when_synthesised,
    finish_run,
)
from campaign.status import campaign_status
from campaign.sweep import sweep, sweep_chunks
from models.campaigns import Campaign, get_campaign
from models.db import transaction
from models.facts import FactKind
from models.obligations import ObligationKind
from models.units import Unit, roster_revision
from models.views import CampaignStatus, NoticeView, RunResult
from states.conditions import ladder_context
from states.engine import FireContext

# The tasks of a reconcile in the order they run, by the names Prefect shows: the deadline sweep
# runs once per scope of `sweep_scopes`, the others once each.
TASKS = (
    "start-run",
    "deploy-plan",
    "hold-branch-sessions",
    "collect-reports",
    "screen-members",
    "commend-exemplars",
    "report-upward",
    "deadline-sweep",
    "escalate",
    "finish-run",
)


class Progress(Protocol):
    """Follows a run (the CLI's progress bar): called as each task ends, with its name and the
    run's number of tasks."""

    def __call__(self, task: str, total: int, /) -> None: ...


class SweepScope(NamedTuple):
    """What one deadline-sweep task judges: the subtrees at `paths`, or those units alone."""

    paths: list[str]
    subtree: bool = True


def task_count(scopes: list[SweepScope]) -> int:
    """How many tasks a run of these sweep scopes takes."""
    return len(TASKS) - 1 + len(scopes)


@contextmanager
def _campaign(engine: Engine, code: str) -> Iterator[tuple[Session, Campaign]]:
    with transaction(engine) as session:
        yield session, get_campaign(session, code)


def fire_context(campaign: Campaign, as_of: dt.date, actor: str) -> FireContext:
    """The context the machines fire in for this campaign's run at `as_of`: its ladder."""
    ladder = campaign.plan_file.escalation
    return ladder_context(
        actor=actor,
        as_of=as_of,
        campaign_id=campaign.id,
        remind_days_before=ladder.remind_days_before,
        step_days=ladder.step_days,
        calendar=ladder.working_calendar(),
    )


def start_run(
    engine: Engine,
    code: str,
    as_of: dt.date,
    actor: str,
    *,
    resume: int | None = None,
    flow_run_id: str | None = None,
) -> tuple[int, int]:
    """Record the run (refusing a date in the past), or take up the unfinished run `resume`,
    and move the campaign's own lifecycle; returns (run id, audit seq)."""
    with _campaign(engine, code) as (session, campaign):
        if resume is None:
            started = begin_run(session, code, as_of, actor, flow_run_id)
        else:
            started = resume, audit_seq(session)
        advance_campaign(session, campaign, fire_context(campaign, as_of, actor))
        return started


def deploy_plan(engine: Engine, code: str, as_of: dt.date, actor: str) -> tuple[int, int]:
    """Create every obligation and self-assessment the plan sets (only what is missing, and only
    when the roster moved since the last deployment), make the open obligations follow the
    members who moved or left, and take in the implementation plans the grassroots
    organisations issued; returns (obligations created, facts applied)."""
    created = 0
    with _campaign(engine, code) as (session, campaign):
        revision = roster_revision(session)
        if campaign.deployed_revision != revision:
            created, last_id = deploy.deploy_obligations(session, campaign)
            deploy.deploy_assessments(session, campaign)
            if created:
                apply.stage_created(session, campaign, as_of, last_id)
            campaign.deployed_revision = revision
        roster_follow.follow_roster(session, campaign, fire_context(campaign, as_of, actor))
        unit_follow.follow_tree(session, campaign, fire_context(campaign, as_of, actor))
        apply.stage_first_evidence(session, campaign, as_of, ObligationKind.issue_plan)
        return created, apply.mark_applied(session, campaign, as_of, [FactKind.plan_issued])


def hold_branch_sessions(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Take in the thematic sessions and optional activities the units held."""
    with _campaign(engine, code) as (session, campaign):
        apply.stage_session_evidence(session, campaign, as_of)
        kinds = [FactKind.session_held, FactKind.activity_held]
        return apply.mark_applied(session, campaign, as_of, kinds)


def collect_reports(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Take in the members' self-assessments (leader and regular variants)."""
    with _campaign(engine, code) as (session, campaign):
        ctx = fire_context(campaign, as_of, actor)
        # before the facts are applied
        apply.stage_first_evidence(session, campaign, as_of, ObligationKind.self_assess)
        return apply.apply_lifecycle_facts(session, campaign, apply.ASSESSMENT_KINDS, ctx)


def screen_members(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Advance the screening cases of weak members."""
    with _campaign(engine, code) as (session, campaign):
        ctx = fire_context(campaign, as_of, actor)
        return apply.apply_lifecycle_facts(session, campaign, apply.SCREENING_KINDS, ctx)


def commend_exemplars(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Advance the nominations of exemplary members and organisations."""
    with _campaign(engine, code) as (session, campaign):
        ctx = fire_context(campaign, as_of, actor)
        return apply.apply_lifecycle_facts(session, campaign, apply.COMMENDATION_KINDS, ctx)


def report_upward(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Take in the grassroots reports and the committee's synthesis."""
    with _campaign(engine, code) as (session, campaign):
        apply.stage_first_evidence(session, campaign, as_of, ObligationKind.report_upward)
        return apply.mark_applied(session, campaign, as_of, [FactKind.report_submitted])


def sweep_scopes(engine: Engine, code: str) -> list[SweepScope]:
    """The deadline sweep's tasks: each chunk of districts, then the committee's own synthesis
    above them (a committee that has no districts is one scope of its whole tree)."""
    with _campaign(engine, code) as (session, campaign):
        owner_path, chunks = sweep_chunks(session, campaign)
    scopes = [SweepScope(paths) for paths in chunks]
    if chunks != [[owner_path]]:
        scopes.append(SweepScope([owner_path], subtree=False))
    return scopes


def deadline_sweep(
    engine: Engine,
    code: str,
    as_of: dt.date,
    actor: str,
    paths: list[str],
    subtree: bool = True,
) -> int:
    """Judge every obligation of a chunk of districts (or the committee's own) at the date."""
    with _campaign(engine, code) as (session, campaign):
        ctx = fire_context(campaign, as_of, actor)
        return sweep(session, campaign.id, paths, ctx, subtree=subtree)


def escalate(engine: Engine, code: str, as_of: dt.date, actor: str) -> list[NoticeView]:
    """Issue one notice per unit and ladder step (announced as Prefect events by the flow)."""
    with _campaign(engine, code) as (session, campaign):
        owner = session.get_one(Unit, campaign.owner_id)
        return issue_notices(session, campaign, as_of, owner)


def finish(
    engine: Engine,
    code: str,
    as_of: dt.date,
    actor: str,
    run_id: int,
    first_seq: int,
    counts: dict[str, int],
) -> tuple[int, CampaignStatus]:
    """Close the campaign if its synthesis is in, record the run; return its transitions and
    the progress down to the grassroots organisations."""
    with _campaign(engine, code) as (session, campaign):
        close_when_synthesised(session, campaign, fire_context(campaign, as_of, actor))
        transitions = finish_run(session, run_id, campaign, first_seq, counts)
    with _campaign(engine, code) as (session, campaign):
        return transitions, campaign_status(session, code, branches=False)


def run_result(
    code: str,
    as_of: dt.date,
    counts: dict[str, int],
    notices: list[NoticeView],
    finished: tuple[int, CampaignStatus],
) -> RunResult:
    """What a run did: `counts` as `finish` records them, the notices `escalate` issued, and
    what `finish` returned."""
    transitions, status = finished
    return RunResult(
        campaign=code,
        as_of=as_of,
        state=status.state,
        transitions=transitions,
        facts_applied=counts["facts_applied"],
        obligations_created=counts["obligations_created"],
        targets=status.targets,
        notices=notices,
    )


def reconcile(
    engine: Engine,
    code: str,
    as_of: dt.date,
    actor: str,
    *,
    resume: int | None = None,
    progress: Progress | None = None,
) -> tuple[RunResult, CampaignStatus]:
    """Reconcile campaign `code` at `as_of`: every step of `TASKS` in order, as plain calls (for
    the unfinished run `resume`, its record taken up); `progress` is told as each step ends."""
    scopes = sweep_scopes(engine, code)
    done = progress_teller(progress, task_count(scopes))
    run_id, first_seq = start_run(engine, code, as_of, actor, resume=resume)
    done("start-run")
    created, applied = deploy_plan(engine, code, as_of, actor)
    done("deploy-plan")
    # Each step that takes in facts returns how many it applied.
    applied += hold_branch_sessions(engine, code, as_of, actor)
    done("hold-branch-sessions")
    applied += collect_reports(engine, code, as_of, actor)
    done("collect-reports")
    applied += screen_members(engine, code, as_of, actor)
    done("screen-members")
    applied += commend_exemplars(engine, code, as_of, actor)
    done("commend-exemplars")
    applied += report_upward(engine, code, as_of, actor)
    done("report-upward")
    for scope in scopes:
        deadline_sweep(engine, code, as_of, actor, scope.paths, subtree=scope.subtree)
        done("deadline-sweep")
    notices = escalate(engine, code, as_of, actor)
    done("escalate")
    counts = {"facts_applied": applied, "obligations_created": created}
    finished = finish(engine, code, as_of, actor, run_id, first_seq, counts)
    done("finish-run")
    return run_result(code, as_of, counts, notices, finished), finished[1]


def progress_teller(progress: Progress | None, total: int) -> Callable[[str], None]:
    """Tells `progress` (if any) that a task of a run of `total` tasks ended."""

    def done(task: str) -> None:
        if progress is not None:
            progress(task, total)

    return done
