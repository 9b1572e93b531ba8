"""The 2023 timeline on a small hand-made town, run through the real Prefect flow."""

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.status import AuditFilter, audit_trail, campaign_status, open_escalations
from flows import campaign_flow as flow
from flows.campaign_flow import campaign_flow
from flows.daily import daily_campaigns
from models.audit import AuditEvent
from models.db import transaction
from models.documents import Document
from models.errors import OutOfScope
from models.members import Member
from models.obligations import Obligation
from states.audit_chain import chain_head, verify_chain
from tests.input_files import MEMBER_HEADER, write_csv
from tests.scenario import ON_TIME, RECORDED_LATE, REPORTS, record_facts, run_flow
from tests.town import MEMBERS, plan_for


def _obligations(engine: Engine) -> dict[tuple[str, str], tuple[str, int]]:
    with transaction(engine) as session:
        status = campaign_status(session, "T23")
        found = {
            (u.code, o.kind): (o.state, o.escalation_level)
            for u in status.units
            for o in u.obligations
        }
        for e in open_escalations(session, "T23"):
            for member in e.members or []:
                found[(member, e.obligation)] = (e.state, e.level)
        return found


def _targets(engine: Engine) -> dict[str, tuple[int, int, float]]:
    with transaction(engine) as session:
        targets = campaign_status(session, "T23").targets.model_dump()
    return {name: (t["done"], t["eligible"], t["percent"]) for name, t in targets.items()}


def _artifact(key: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )


def _events(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_the_2023_timeline(town: Engine, tmp_path: Path) -> None:
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    first = run_flow(town, "2023-02-01")
    assert first.state == "active" and first.obligations_created == 13
    assert first.facts_applied == 0  # the facts are dated later
    assert _targets(town) == {
        "members_self_assessed": (0, 5, 0.0),
        "leaders_self_assessed": (0, 2, 0.0),
        "branches_with_sessions": (0, 3, 0.0),
    }

    assert run_flow(town, "2023-02-16").facts_applied == 1  # the plan issued on 10/02
    ob = _obligations(town)
    assert ob[("G1", "issue_plan")] == ("met", 0)
    assert ob[("G2", "issue_plan")] == ("overdue", 0)

    # Every kind counts: the session, two submissions, an acceptance, an activity.
    assert run_flow(town, "2023-05-12").facts_applied == 5
    ob = _obligations(town)
    assert ob[("B1", "hold_session")] == ("met", 0)
    assert ob[("B2", "hold_session")] == ("reminded", 0)
    assert ob[("G2", "issue_plan")] == ("escalated", 2)
    assert _targets(town)["members_self_assessed"] == (2, 5, 40.0)
    assert _targets(town)["leaders_self_assessed"] == (1, 2, 50.0)

    late = run_flow(town, "2023-05-22")  # overdue the first working day after Friday 19/05
    assert late.state == "reporting"
    assert {(n.unit, n.step) for n in late.notices} == {("B2", "overdue"), ("G2", "overdue")}
    with transaction(town) as session:
        grouped = {(e.unit, e.obligation): e.members for e in open_escalations(session, "T23")}
    assert grouped[("B2", "self_assess")] == ["M4"]
    assert grouped[("G2", "self_assess")] == ["M6", "M7"]
    assert grouped[("G2", "hold_session")] is None

    record_facts(town, tmp_path, "late.csv", RECORDED_LATE)
    week_later = run_flow(town, "2023-05-31")  # 7 working days after the overdue day
    assert week_later.facts_applied == len(RECORDED_LATE)
    ob = _obligations(town)
    assert ob[("B2", "hold_session")] == ("met", 0), "done on 18/05, recorded late: met"
    assert ob[("G2", "hold_session")] == ("escalated", 1)
    assert {(n.unit, n.step, n.level) for n in week_later.notices} == {("G2", "escalation", 1)}
    with transaction(town) as session:
        b2 = [
            (e.trigger, e.from_, e.to)
            for e in audit_trail(session, "T23", AuditFilter(unit="B2"))
            if e.entity == "obligation"
        ]
    assert ("confirm_in_time", "overdue", "met") in b2
    assert _targets(town)["branches_with_sessions"] == (2, 3, 66.7)

    record_facts(town, tmp_path, "reports.csv", REPORTS)
    run_flow(town, "2023-06-26")  # the Monday after Friday 23/06
    assert _obligations(town)[("G2", "report_upward")] == ("overdue", 0)
    closing = run_flow(town, "2023-06-30")
    assert closing.state == "closed"
    assert _artifact("t23-progress") and _artifact("t23-summary")
    assert _obligations(town)[("TOWN", "report_upward")] == ("met", 0)


def test_a_second_run_at_the_same_date_changes_nothing(town: Engine, tmp_path: Path) -> None:
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    run_flow(town, "2023-05-20")
    events = _events(town)
    with transaction(town) as session:
        documents = session.scalar(select(func.count()).select_from(Document))
    again = run_flow(town, "2023-05-20")
    assert (again.transitions, again.notices, _events(town)) == (0, [], events)
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Document)) == documents
    with pytest.raises(OutOfScope, match="would go back in time"):
        run_flow(town, "2023-05-19")


def test_a_run_publishes_the_audit_head_it_ended_on(town: Engine, tmp_path: Path) -> None:
    """Each run's head goes to Prefect (its summary artifact), where a reviewer can keep it
    outside our database, and `audit verify` accepts it as a kept head."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    first = run_flow(town, "2023-05-20")
    second = run_flow(town, "2023-05-27")
    assert first.audit_head and second.audit_head
    assert first.audit_head.seq < second.audit_head.seq
    with transaction(town) as session:
        assert chain_head(session) == second.audit_head
        verify_chain(session, kept=[first.audit_head, second.audit_head])
    kept = f"{second.audit_head.seq}:{second.audit_head.hash}"
    assert any(kept in str(a.data) for a in _artifact("t23-summary"))


def test_the_cli_follows_a_run_task_by_task(town: Engine) -> None:
    """What the progress bar of `campaign run` is told: every task of the flow as it ends, in
    order, with the run's number of tasks (the town's grassroots organisations: one
    partition)."""
    seen: list[tuple[str, int]] = []
    url = town.url.render_as_string(hide_password=False)
    result = flow.run_campaign(
        "T23",
        dt.date(2023, 5, 20),
        actor="tester",
        database_url=url,
        progress=lambda task, total: seen.append((task, total)),
    )
    assert result.notices
    assert [task for task, _ in seen] == [
        "start-run",
        "deploy-plan",
        "reconcile-partition",
        "reconcile-owner",
        "escalate",
        "finish-run",
    ]
    assert {total for _, total in seen} == {len(seen)}
    assert flow.PROGRESS.get() is None  # the observer does not outlive its run
    run_flow(town, "2023-05-21")  # nor follows the next one
    assert len(seen) == 6


def _task_runs(flow_run: str, count: int) -> list[str]:
    """The names of the tasks `flow_run` ran, in the order they started (the server records
    task runs from their events: waited for until `count` are in)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId
    from prefect.client.schemas.sorting import TaskRunSort

    ran: list[Any] = []
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while len(ran) < count and time.monotonic() < deadline:
            time.sleep(0.2)
            ran = client.read_task_runs(
                task_run_filter=TaskRunFilter(
                    flow_run_id=TaskRunFilterFlowRunId(any_=[uuid.UUID(flow_run)])
                ),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            )
    return [run.name.rsplit("-", 1)[0] for run in ran]


def test_the_flow_runs_its_tasks_in_the_order_of_the_plain_reconcile(
    engine: Engine, tmp_path: Path
) -> None:
    """The flow calls its tasks one by one, as `campaign.reconcile.reconcile` calls its steps:
    both in the order of `reconcile.TASKS` (a province: a sweep task per chunk of districts,
    then the committee's own), as Prefect's API records the task runs."""
    from campaign import reconcile
    from devtools.generate import generate, load_organisation
    from tests.campaign.test_reconcile import expected_tasks

    files = generate(300, tmp_path / "files", seed=5, plan_code="P23", districts=3)
    load_organisation(engine, files, on=dt.date(2023, 1, 30))
    scopes = reconcile.sweep_scopes(engine, "P23")
    assert len(scopes) > 1 and not scopes[-1].subtree, "the province sweeps in two scopes or more"
    url = engine.url.render_as_string(hide_password=False)
    result = campaign_flow("P23", dt.date(2023, 2, 15), "tester", url)
    assert result.flow_run
    expected = expected_tasks(len(reconcile.partitions(engine, "P23")))
    assert _task_runs(result.flow_run, len(expected)) == expected
    told: list[str] = []
    reconcile.reconcile(
        engine, "P23", dt.date(2023, 2, 16), "tester", progress=lambda task, _: told.append(task)
    )
    assert told == expected


def test_a_member_who_joins_mid_campaign_is_deployed_at_the_next_run(
    town: Engine, tmp_path: Path
) -> None:
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    run_flow(town, "2023-02-16")
    assert run_flow(town, "2023-02-20").obligations_created == 0, "the roster did not move"
    joined = [*MEMBERS, ["M8", "Bùi Thị Lan", "B2", "no", "", "active"]]
    with transaction(town) as session:
        import_members(
            write_csv(tmp_path / "members.csv", MEMBER_HEADER, joined),
            session=session,
            on=dt.date(2023, 3, 1),
        )
    assert run_flow(town, "2023-03-02").obligations_created == 1
    record_facts(
        town,
        tmp_path,
        "late-joiner.csv",
        [["2023-03-05", "self_assessment_submitted", "B2", "M8", ""]],
    )
    run_flow(town, "2023-03-06")
    with transaction(town) as session:
        state = session.scalar(
            select(Obligation.state)
            .join(Member, Member.id == Obligation.member_id)
            .where(Member.code == "M8", Obligation.kind == "self_assess")
        )
    assert state == "met"
    assert _targets(town)["members_self_assessed"][:2] == (1, 6), (
        "M8 only: the others report on 10/03"
    )


def _register_2024(engine: Engine, tmp_path: Path) -> None:
    """Register the 2024 plan (quarterly sessions) for the town as campaign T24."""
    with transaction(engine) as session:
        register_plan(plan_for(tmp_path, "bu-gia-map-2024.yaml", code="T24"), session=session)


def _sessions_owed(engine: Engine, code: str) -> dict[tuple[str, str | None], str]:
    """Each unit's session obligations by window, and their states."""
    with transaction(engine) as session:
        status = campaign_status(session, code)
    return {
        (u.code, o.window): o.state
        for u in status.units
        for o in u.obligations
        if o.kind == "hold_session"
    }


def test_the_2024_plan_owes_sessions_each_quarter(town: Engine, tmp_path: Path) -> None:
    _register_2024(town, tmp_path)
    url = town.url.render_as_string(hide_password=False)
    held = [
        ["2024-08-01", "session_held", "B1", "", ""],
        ["2024-07-20", "session_held", "G2", "", ""],
    ]
    record_facts(town, tmp_path, "q.csv", held, code="T24")
    campaign_flow("T24", dt.date(2024, 10, 2), "tester", url)
    assert _sessions_owed(town, "T24") == {
        ("G1", "2024-Q3"): "met",
        ("G1", "2024-Q4"): "open",
        ("G2", "2024-Q3"): "met",
        ("G2", "2024-Q4"): "open",
    }
    with transaction(town) as session:
        dumped = campaign_status(session, "T24").model_dump(mode="json")
    g1 = next(u for u in dumped["units"] if u["code"] == "G1")
    assert {
        "kind": "hold_session",
        "due": "2024-09-30",
        "state": "met",
        "escalation_level": 0,
        "window": "2024-Q3",
    } in g1["obligations"]


def test_sessions_recorded_after_deployment_reach_the_grassroots_above_them(
    town: Engine, tmp_path: Path
) -> None:
    """A later run re-judges only the organisations above the units of the new sessions: a
    branch's session meets its grassroots organisation's quarter, the other's stays owed."""
    _register_2024(town, tmp_path)
    url = town.url.render_as_string(hide_password=False)
    campaign_flow("T24", dt.date(2024, 7, 5), "tester", url)  # deploys the quarters' duties
    record_facts(
        town, tmp_path, "q3.csv", [["2024-08-01", "session_held", "B1", "", ""]], code="T24"
    )
    campaign_flow("T24", dt.date(2024, 8, 2), "tester", url)
    assert _sessions_owed(town, "T24") == {
        ("G1", "2024-Q3"): "met",
        ("G1", "2024-Q4"): "open",
        ("G2", "2024-Q3"): "open",
        ("G2", "2024-Q4"): "open",
    }


def test_screening_and_commendation_follow_their_facts(town: Engine, tmp_path: Path) -> None:
    from models.casework import Commendation, ScreeningCase

    record_facts(
        town,
        tmp_path,
        "cases.csv",
        [
            ["2023-03-01", "screening_opened", "B1", "M2", ""],
            ["2023-03-05", "screening_step", "B1", "M2", "educate"],
            ["2023-03-09", "screening_step", "B1", "M2", "help"],
            ["2023-03-20", "screening_step", "B1", "M2", "screen"],
            ["2023-03-25", "screening_step", "B1", "M2", "removed"],
            ["2023-03-02", "screening_opened", "G2", "M7", ""],
            ["2023-03-03", "exemplar_nominated", "B1", "M1", ""],
            ["2023-03-04", "exemplar_approved", "B1", "M1", ""],
            ["2023-03-03", "exemplar_nominated", "G1", "", ""],
        ],
    )
    run_flow(town, "2023-03-10")
    with transaction(town) as session:
        cases = dict(session.execute(select(ScreeningCase.member_id, ScreeningCase.state)).all())
        praise = set(session.execute(select(Commendation.member_id, Commendation.state)).all())
    assert sorted(cases.values()) == ["detected", "helping"]
    assert praise == {(None, "nominated"), (1, "approved")}
    run_flow(town, "2023-04-01")
    with transaction(town) as session:
        states = sorted(session.scalars(select(ScreeningCase.state)))
        trail = [
            (e.trigger, e.to)
            for e in audit_trail(session, "T23", AuditFilter(member="M2"))
            if e.entity == "screening"
        ]
    assert states == ["detected", "removed"]
    assert trail == [
        ("open", "reviewing"),
        ("detect", "detected"),
        ("educate", "educating"),
        ("help", "helping"),
        ("screen", "screening"),
        ("remove", "removed"),
    ]


def test_the_daily_run_skips_a_refused_campaign_and_runs_the_others(
    town: Engine, tmp_path: Path
) -> None:
    _register_2024(town, tmp_path)
    run_flow(town, "2023-05-20")
    url = town.url.render_as_string(hide_password=False)
    assert daily_campaigns(dt.date(2023, 5, 19), url) == ["T24"]
    with transaction(town) as session:
        assert campaign_status(session, "T24").as_of == dt.date(2023, 5, 19)
