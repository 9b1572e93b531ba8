"""The reconcile's steps as plain calls (`campaign.reconcile`): their order, a run cut short
between two of them, and a day's facts applied round by round inside one step."""

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from campaign import apply, reconcile
from campaign.status import AuditFilter, audit_trail
from models.campaigns import get_campaign
from models.casework import Assessment
from models.db import make_engine, migrate, transaction
from models.members import Member
from states.conditions import FireContext
from tests.scenario import ON_TIME, end_state, record_facts, run_flow
from tests.town import load_town


def expected_tasks(parts: int) -> list[str]:
    """`reconcile.TASKS` as a run of `parts` partitions takes them."""
    return [
        name
        for name in reconcile.TASKS
        for _ in range(parts if name == "reconcile-partition" else 1)
    ]


def test_the_plain_reconcile_takes_its_steps_in_the_order_of_its_tasks(town: Engine) -> None:
    """What `reconcile` tells its observer: each step of `TASKS` as it ends, in that order, with
    the run's number of tasks (the town is one district: one sweep)."""
    seen: list[tuple[str, int]] = []
    result, status = reconcile.reconcile(
        town, "T23", dt.date(2023, 5, 20), "tester", progress=lambda t, n: seen.append((t, n))
    )
    assert [task for task, _ in seen] == expected_tasks(1)
    assert {total for _, total in seen} == {len(seen)} == {len(reconcile.TASKS)}
    assert result.notices and result.state == status.state


def test_a_run_cut_short_is_finished_by_running_again(town: Engine, tmp_path: Path) -> None:
    """A crash between steps leaves each finished step committed; the re-run completes the
    job, and no transition is taken twice."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    run_flow(town, "2023-02-01")
    day = dt.date(2023, 5, 20)
    reconcile.start_run(town, "T23", day, "tester")
    for step in (
        reconcile.deploy_plan,
        reconcile.hold_branch_sessions,
        reconcile.collect_reports,
        reconcile.screen_members,
        reconcile.commend_exemplars,
        reconcile.report_upward,
    ):
        step(town, "T23", day, "tester")
    reconcile.deadline_sweep(town, "T23", day, "tester", ["/TOWN/G1/"])  # … and the process dies
    run_flow(town, "2023-05-20")
    states, events = end_state(town)
    assert len(events) == len(set(events)), "a transition was repeated"
    control = tmp_path / "control"
    control.mkdir()

    other = make_engine(f"sqlite:///{control / 'c.db'}")

    migrate(other)
    load_town(other, control)
    record_facts(other, control, "on-time.csv", ON_TIME)
    run_flow(other, "2023-02-01")
    run_flow(other, "2023-05-20")
    assert end_state(other) == (states, events)
    other.dispose()


def test_a_days_facts_apply_round_by_round_in_one_transaction(town: Engine, tmp_path: Path) -> None:
    """Each member's facts apply in date order, one round each (submitted, returned, submitted
    again, accepted, all before one run's date); applying again in the same transaction finds
    nothing left, and no rounds table is left behind to trip over."""
    run_flow(town, "2023-02-01")  # deploys the self-assessments
    rounds = [
        ["2023-03-01", "self_assessment_submitted", "B1", "M1", ""],
        ["2023-03-02", "self_assessment_returned", "B1", "M1", ""],
        ["2023-03-03", "self_assessment_submitted", "B1", "M1", ""],
        ["2023-03-04", "self_assessment_accepted", "B1", "M1", ""],
        ["2023-03-02", "self_assessment_submitted", "G2", "M6", ""],
    ]
    record_facts(town, tmp_path, "rounds.csv", rounds)
    with transaction(town) as session:
        campaign = get_campaign(session, "T23")
        ctx = FireContext(actor="tester", as_of=dt.date(2023, 3, 10), campaign_id=campaign.id)
        first = apply.apply_lifecycle_facts(session, campaign, apply.ASSESSMENT_KINDS, ctx)
        again = apply.apply_lifecycle_facts(session, campaign, apply.ASSESSMENT_KINDS, ctx)
    assert (first, again) == (5, 0)
    with transaction(town) as session:
        trail = [
            (e.trigger, e.to)
            for e in audit_trail(session, "T23", AuditFilter(member="M1"))
            if e.entity == "assessment"
        ]
        states = dict(
            session.execute(
                select(Member.code, Assessment.state).join(
                    Member, Member.id == Assessment.member_id
                )
            ).all()
        )
    assert trail == [
        ("submit", "submitted"),
        ("send_back", "returned"),
        ("submit", "submitted"),
        ("accept", "accepted"),
    ]
    assert (states["M1"], states["M6"], states["M2"]) == ("accepted", "submitted", "pending")
