"""A reconcile at a date (SPEC §4), as plain functions over an engine: start the run, deploy the
plan, then each partition of the tree (`campaign.partition`: what its units reported taken in —
plans, sessions, self-assessments, screenings, commendations, reports upward — and its
deadlines judged), then the owner's own part (the same for the units in no partition), issue
the notices, finish.

Each step is one transaction, set-based; re-running any of them at the same date changes
nothing, so a crash is finished by running again. The campaign flow (`flows/campaign_flow.py`)
runs each step as a Prefect task (a partition as a child flow run) of the name in `TASKS`, in
this order; `reconcile` runs them as plain calls (the bench and the tests that need no
Prefect)."""

import datetime as dt
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from sqlalchemy import Engine

from campaign import apply, deploy, roster_follow, unit_follow
from campaign.notices import issue_notices
from campaign.partition import (
    FACT_STEPS,
    Partition,
    partitions,
    reconcile_partition,
    run_step,
    take_in_facts,
)
from campaign.partition import campaign_session as _campaign
from campaign.partition import deadline_sweep as deadline_sweep
from campaign.partition import fire_context as fire_context
from campaign.run_record import (
    advance_campaign,
    audit_seq,
    begin_run,
    close_when_synthesised,
    finish_run,
)
from campaign.status import campaign_status
from campaign.sweep import sweep_chunks
from campaign.within import Outside
from models.db import analyze
from models.facts import FactKind, fact_paths
from models.obligations import ObligationKind
from models.units import Unit, roster_revision
from models.views import CampaignStatus, NoticeView, RunResult

# The tasks of a reconcile in the order they run, by the names Prefect shows: a partition's
# runs once per partition of `campaign.partition.partitions`, the others once each.
TASKS = (
    "start-run",
    "deploy-plan",
    "reconcile-partition",
    "reconcile-owner",
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


def task_count(parts: Sequence[Partition]) -> int:
    """How many tasks a run of these partitions takes."""
    return len(TASKS) - 1 + len(parts)


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


def deploy_plan(
    engine: Engine, code: str, as_of: dt.date, actor: str, *, plans: bool = True
) -> tuple[int, int]:
    """Create every obligation and self-assessment the plan sets (only what is missing, and only
    when the roster moved since the last deployment), make the open obligations follow the
    members who moved or left (staging the evidence of those whose move holds later), and
    (unless `plans` is False: the partitions take them in) take in the implementation plans
    the grassroots organisations issued; returns (obligations created, facts applied)."""
    created = 0
    with _campaign(engine, code) as (session, campaign):
        revision = roster_revision(session)
        if campaign.deployed_revision != revision:
            # the tables a deployment reads and writes, sized afresh for the planner (the
            # roster moved: after an import into empty tables it knows none of their rows)
            analyze(session, "unit", "member", "fact")
            if fact_paths(session, campaign.id):  # pending facts lie where their members are now
                analyze(session, "fact")
            created, last_id = deploy.deploy_obligations(session, campaign)
            deploy.deploy_assessments(session, campaign)
            analyze(session, "obligation", "assessment")
            if created:
                apply.stage_created(session, campaign, as_of, last_id)
            campaign.deployed_revision = revision
        roster_follow.follow_roster(session, campaign, fire_context(campaign, as_of, actor))
        unit_follow.follow_tree(session, campaign, fire_context(campaign, as_of, actor))
        apply.stage_moving_members(session, campaign, as_of)
        if not plans:
            return created, 0
        apply.stage_first_evidence(session, campaign, as_of, ObligationKind.issue_plan)
        return created, apply.mark_applied(session, campaign, as_of, [FactKind.plan_issued])


# The fact steps campaign-wide, one transaction each (a run whose facts are not partitioned).


def hold_branch_sessions(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Take in the thematic sessions and optional activities the units held."""
    return run_step(engine, code, as_of, actor, FACT_STEPS["hold-branch-sessions"])


def collect_reports(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Take in the members' self-assessments (leader and regular variants)."""
    return run_step(engine, code, as_of, actor, FACT_STEPS["collect-reports"])


def screen_members(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Advance the screening cases of weak members."""
    return run_step(engine, code, as_of, actor, FACT_STEPS["screen-members"])


def commend_exemplars(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Advance the nominations of exemplary members and organisations."""
    return run_step(engine, code, as_of, actor, FACT_STEPS["commend-exemplars"])


def report_upward(engine: Engine, code: str, as_of: dt.date, actor: str) -> int:
    """Take in the grassroots reports and the committee's synthesis."""
    return run_step(engine, code, as_of, actor, FACT_STEPS["report-upward"])


def reconcile_owner(
    engine: Engine, code: str, as_of: dt.date, actor: str, parts: Sequence[Partition]
) -> dict[str, int]:
    """The owner's own part of a partitioned run, once `parts` are done (or before: the order
    changes nothing): the facts of every unit in none of them (the owner's, and any outside
    its tree) taken in, then the owner's own obligations judged (its whole tree when it has no
    partitions); on the campaign's main chain. Returns {"facts_applied": …, "moves": …}."""
    outside = Outside(path for part in parts for path in part.paths)
    applied = take_in_facts(engine, code, as_of, actor, outside)
    with _campaign(engine, code) as (session, campaign):
        owner_path = session.get_one(Unit, campaign.owner_id).path
    moves = deadline_sweep(engine, code, as_of, actor, [owner_path], subtree=not parts)
    return {"facts_applied": applied, "moves": moves}


def sweep_scopes(engine: Engine, code: str) -> list[SweepScope]:
    """The deadline sweep's tasks: each chunk of districts, then the committee's own synthesis
    above them (a committee that has no districts is one scope of its whole tree)."""
    with _campaign(engine, code) as (session, campaign):
        owner_path, chunks = sweep_chunks(session, campaign)
    scopes = [SweepScope(paths) for paths in chunks]
    if chunks != [[owner_path]]:
        scopes.append(SweepScope([owner_path], subtree=False))
    return scopes


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
    """Reconcile campaign `code` at `as_of`: every step of `TASKS` in order, as plain calls (the
    partitions one after another; for the unfinished run `resume`, its record taken up);
    `progress` is told as each step ends."""
    parts = partitions(engine, code)
    done = progress_teller(progress, task_count(parts))
    run_id, first_seq = start_run(engine, code, as_of, actor, resume=resume)
    done("start-run")
    created, applied = deploy_plan(engine, code, as_of, actor, plans=False)
    done("deploy-plan")
    # Each part returns how many facts it applied.
    for part in parts:
        applied += reconcile_partition(engine, code, as_of, actor, part)["facts_applied"]
        done("reconcile-partition")
    applied += reconcile_owner(engine, code, as_of, actor, parts)["facts_applied"]
    done("reconcile-owner")
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
