"""The 2023 timeline on a small hand-made town, run through the real Prefect flow."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from prefect.events import Event
from prefect.settings import PREFECT_SERVER_EVENTS_MAXIMUM_RELATED_RESOURCES, temporary_settings
from sqlalchemy import Engine, func, select

from campaign import apply
from campaign.intake import fact_sheet as facts
from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.notices import STEP_TITLES
from campaign.status import AuditFilter, audit_trail, campaign_status, open_escalations
from flows import campaign_flow as flow
from flows.campaign_flow import campaign_flow
from models.audit import AuditEvent
from models.campaigns import get_campaign
from models.casework import Assessment
from models.db import make_engine, migrate, transaction
from models.documents import Document
from models.errors import InputError, OutOfScope
from models.facts import Fact
from models.members import Member
from models.obligations import Obligation
from models.views import NoticeView
from states.audit_chain import chain_head, verify_chain
from states.conditions import FireContext
from tests.files import MEMBER_HEADER, write_csv
from tests.town import MEMBERS, load_town, plan_for

FACT_HEADER = ["date", "kind", "unit", "member", "note"]
ON_TIME = [
    ["2023-02-10", "plan_issued", "G1", "", ""],
    ["2023-03-10", "session_held", "B1", "", ""],
    ["2023-03-10", "self_assessment_submitted", "B1", "M1", ""],
    ["2023-03-10", "self_assessment_submitted", "B1", "M2", ""],
    ["2023-03-12", "self_assessment_accepted", "B1", "M1", ""],
    ["2023-03-20", "activity_held", "G1", "", "Giao lưu với đảng viên cao tuổi Đảng"],
]
RECORDED_LATE = [
    ["2023-05-18", "session_held", "B2", "", ""],
    ["2023-05-18", "self_assessment_submitted", "B2", "M4", ""],
]
REPORTS = [
    ["2023-06-20", "report_submitted", "G1", "", ""],
    ["2023-06-29", "report_submitted", "TOWN", "", ""],
]


def _facts(
    engine: Engine, tmp_path: Path, name: str, rows: list[list[str]], code: str = "T23"
) -> None:
    with transaction(engine) as session:
        path = write_csv(tmp_path / name, FACT_HEADER, rows)
        import_facts(code, path, session=session, actor="tester", today=dt.date(2026, 1, 1))


def _run(engine: Engine, day: str) -> Any:
    url = engine.url.render_as_string(hide_password=False)
    return campaign_flow("T23", dt.date.fromisoformat(day), "tester", url)


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
    _facts(town, tmp_path, "on-time.csv", ON_TIME)
    first = _run(town, "2023-02-01")
    assert first.state == "active" and first.obligations_created == 13
    assert first.facts_applied == 0  # the facts are dated later
    assert _targets(town) == {
        "members_self_assessed": (0, 5, 0.0),
        "leaders_self_assessed": (0, 2, 0.0),
        "branches_with_sessions": (0, 3, 0.0),
    }

    assert _run(town, "2023-02-16").facts_applied == 1  # the plan issued on 10/02
    ob = _obligations(town)
    assert ob[("G1", "issue_plan")] == ("met", 0)
    assert ob[("G2", "issue_plan")] == ("overdue", 0)

    # Every kind counts: the session, two submissions, an acceptance, an activity.
    assert _run(town, "2023-05-12").facts_applied == 5
    ob = _obligations(town)
    assert ob[("B1", "hold_session")] == ("met", 0)
    assert ob[("B2", "hold_session")] == ("reminded", 0)
    assert ob[("G2", "issue_plan")] == ("escalated", 2)
    assert _targets(town)["members_self_assessed"] == (2, 5, 40.0)
    assert _targets(town)["leaders_self_assessed"] == (1, 2, 50.0)

    late = _run(town, "2023-05-20")
    assert late.state == "reporting"
    assert {(n.unit, n.step) for n in late.notices} == {("B2", "overdue"), ("G2", "overdue")}
    with transaction(town) as session:
        grouped = {(e.unit, e.obligation): e.members for e in open_escalations(session, "T23")}
    assert grouped[("B2", "self_assess")] == ["M4"]
    assert grouped[("G2", "self_assess")] == ["M6", "M7"]
    assert grouped[("G2", "hold_session")] is None

    _facts(town, tmp_path, "late.csv", RECORDED_LATE)
    week_later = _run(town, "2023-05-27")
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

    _facts(town, tmp_path, "reports.csv", REPORTS)
    _run(town, "2023-06-24")
    assert _obligations(town)[("G2", "report_upward")] == ("overdue", 0)
    closing = _run(town, "2023-06-30")
    assert closing.state == "closed"
    assert _artifact("t23-progress") and _artifact("t23-summary")
    assert _obligations(town)[("TOWN", "report_upward")] == ("met", 0)


def test_a_second_run_at_the_same_date_changes_nothing(town: Engine, tmp_path: Path) -> None:
    _facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-05-20")
    events = _events(town)
    with transaction(town) as session:
        documents = session.scalar(select(func.count()).select_from(Document))
    again = _run(town, "2023-05-20")
    assert (again.transitions, again.notices, _events(town)) == (0, [], events)
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Document)) == documents
    with pytest.raises(OutOfScope, match="would go back in time"):
        _run(town, "2023-05-19")


def test_a_run_publishes_the_audit_head_it_ended_on(town: Engine, tmp_path: Path) -> None:
    """Each run's head goes to Prefect (its summary artifact), where a reviewer can keep it
    outside our database, and `audit verify` accepts it as a kept head."""
    _facts(town, tmp_path, "on-time.csv", ON_TIME)
    first = _run(town, "2023-05-20")
    second = _run(town, "2023-05-27")
    assert first.audit_head and second.audit_head
    assert first.audit_head.seq < second.audit_head.seq
    with transaction(town) as session:
        assert chain_head(session) == second.audit_head
        verify_chain(session, kept=[first.audit_head, second.audit_head])
    kept = f"{second.audit_head.seq}:{second.audit_head.hash}"
    assert any(kept in str(a.data) for a in _artifact("t23-summary"))


def test_the_cli_follows_a_run_task_by_task(town: Engine) -> None:
    """What the progress bar of `campaign run` is told: every task of the flow as it ends, in
    order, with the run's number of tasks (the town is one district: one sweep)."""
    seen: list[tuple[str, int]] = []
    url = town.url.render_as_string(hide_password=False)
    result = flow.run_campaign(
        "T23",
        dt.date(2023, 5, 20),
        actor="tester",
        database_url=url,
        steps=lambda task, total: seen.append((task, total)),
    )
    assert result.notices
    assert [task for task, _ in seen] == [
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
    ]
    assert {total for _, total in seen} == {len(seen)}
    assert flow.STEPS.get() is None  # the observer does not outlive its run
    _run(town, "2023-05-21")  # nor follows the next one
    assert len(seen) == 10


def test_a_member_who_joins_mid_campaign_is_deployed_at_the_next_run(
    town: Engine, tmp_path: Path
) -> None:
    _facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-02-16")
    assert _run(town, "2023-02-20").obligations_created == 0, "the roster did not move"
    joined = [*MEMBERS, ["M8", "Bùi Thị Lan", "B2", "no", "", "active"]]
    with transaction(town) as session:
        import_members(
            write_csv(tmp_path / "members.csv", MEMBER_HEADER, joined),
            session=session,
            on=dt.date(2023, 3, 1),
        )
    assert _run(town, "2023-03-02").obligations_created == 1
    _facts(
        town,
        tmp_path,
        "late-joiner.csv",
        [["2023-03-05", "self_assessment_submitted", "B2", "M8", ""]],
    )
    _run(town, "2023-03-06")
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


def test_a_refused_facts_file_leaves_nothing_behind(town: Engine, tmp_path: Path) -> None:
    rows = [
        *ON_TIME,
        ["2023-03-11", "self_assessment_accepted", "B1", "M2", ""],
        ["2023-03-11", "self_assessment_accepted", "B2", "M4", ""],
        ["2023-03-11", "session_held", "B1", "M3", ""],
        ["2022-12-01", "session_held", "B2", "", ""],
    ]
    with pytest.raises(InputError) as refused:
        _facts(town, tmp_path, "bad.csv", rows)
    lines = refused.value.lines()
    assert lines == [
        "bad.csv, row 9, column kind: 'self_assessment_accepted' is not valid on 11/03/2023: "
        "the assessment is 'pending'",
        "bad.csv, row 10, column member: 'M3' is exempt and outside the targets",
        "bad.csv, row 11, column date: 01/12/2022 is before the plan was issued (30/01/2023)",
    ]
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == 0
    # The valid rows before the bad ones were written while the file was checked: a caller
    # that catches the refusal and commits its transaction still stores none of them.
    with transaction(town) as session, pytest.raises(InputError):
        import_facts(
            "T23", tmp_path / "bad.csv", session=session, actor="t", today=dt.date(2026, 1, 1)
        )
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == 0
    _facts(town, tmp_path, "good.csv", ON_TIME)
    _facts(town, tmp_path, "good.csv", ON_TIME)
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == len(ON_TIME)


def test_a_fact_is_recognised_as_recorded_whichever_way_its_date_is_written(
    town: Engine, tmp_path: Path
) -> None:
    """Stored keys are read by the file's dates (a day's file reads a day's keys): the same
    facts written as 15/03/2023, or with one date cell not plainly written, are still known."""
    _facts(town, tmp_path, "iso.csv", ON_TIME)
    vietnamese = [[f"{r[0][8:]}/{r[0][5:7]}/{r[0][:4]}", *r[1:]] for r in ON_TIME]
    with transaction(town) as session:
        path = write_csv(tmp_path / "vn.csv", FACT_HEADER, vietnamese)
        again = import_facts("T23", path, session=session, actor="t", today=dt.date(2026, 1, 1))
    assert (again.recorded, again.already_recorded) == (0, len(ON_TIME))
    # ON_TIME's first fact (10/02), written as a timestamp, outside the other row's day.
    timestamped = ["2023-02-10T00:00:00", "plan_issued", "G1", "", ""]
    later = ["2023-03-21", "session_held", "B2", "", ""]
    with transaction(town) as session:
        path = write_csv(tmp_path / "mixed.csv", FACT_HEADER, [later, timestamped])
        mixed = import_facts("T23", path, session=session, actor="t", today=dt.date(2026, 1, 1))
    assert (mixed.recorded, mixed.already_recorded) == (1, 1)
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == len(ON_TIME) + 1


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
    _facts(town, tmp_path, "q.csv", held, code="T24")
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
    _facts(town, tmp_path, "q3.csv", [["2024-08-01", "session_held", "B1", "", ""]], code="T24")
    campaign_flow("T24", dt.date(2024, 8, 2), "tester", url)
    assert _sessions_owed(town, "T24") == {
        ("G1", "2024-Q3"): "met",
        ("G1", "2024-Q4"): "open",
        ("G2", "2024-Q3"): "open",
        ("G2", "2024-Q4"): "open",
    }


@pytest.mark.parametrize("scan_above", [0, facts.SCAN_ABOVE], ids=["one-scan", "by-ids"])
def test_facts_are_replayed_on_top_of_what_is_stored(
    town: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan_above: int
) -> None:
    """The same refusals whether the members and stored facts are read by lists of ids (a day's
    file) or by one scan (a file naming more than SCAN_ABOVE)."""
    monkeypatch.setattr(facts, "SCAN_ABOVE", scan_above)
    _facts(town, tmp_path, "first.csv", ON_TIME)
    _facts(
        town, tmp_path, "second.csv", [["2023-03-15", "self_assessment_accepted", "B1", "M2", ""]]
    )
    with pytest.raises(
        InputError,
        match="row 2, column kind: 'self_assessment_accepted' is not "
        "valid on 15/03/2023: the assessment is 'accepted'",
    ):
        _facts(
            town,
            tmp_path,
            "third.csv",
            [["2023-03-15", "self_assessment_accepted", "B1", "M1", ""]],
        )
    _run(town, "2023-04-01")
    with pytest.raises(
        InputError, match="dated before facts of the same assessment that a run has already applied"
    ):
        _facts(
            town,
            tmp_path,
            "fourth.csv",
            [["2023-03-11", "self_assessment_returned", "B1", "M1", ""]],
        )


def test_a_days_facts_apply_round_by_round_in_one_transaction(town: Engine, tmp_path: Path) -> None:
    """Each member's facts apply in date order, one round each (submitted, returned, submitted
    again, accepted, all before one run's date); applying again in the same transaction finds
    nothing left, and no rounds table is left behind to trip over."""
    _run(town, "2023-02-01")  # deploys the self-assessments
    rounds = [
        ["2023-03-01", "self_assessment_submitted", "B1", "M1", ""],
        ["2023-03-02", "self_assessment_returned", "B1", "M1", ""],
        ["2023-03-03", "self_assessment_submitted", "B1", "M1", ""],
        ["2023-03-04", "self_assessment_accepted", "B1", "M1", ""],
        ["2023-03-02", "self_assessment_submitted", "G2", "M6", ""],
    ]
    _facts(town, tmp_path, "rounds.csv", rounds)
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


def test_screening_and_commendation_follow_their_facts(town: Engine, tmp_path: Path) -> None:
    from models.casework import Commendation, ScreeningCase

    _facts(
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
    _run(town, "2023-03-10")
    with transaction(town) as session:
        cases = dict(session.execute(select(ScreeningCase.member_id, ScreeningCase.state)).all())
        praise = set(session.execute(select(Commendation.member_id, Commendation.state)).all())
    assert sorted(cases.values()) == ["detected", "helping"]
    assert praise == {(None, "nominated"), (1, "approved")}
    _run(town, "2023-04-01")
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


def _end_state(engine: Engine) -> tuple[list[Any], list[Any]]:
    with transaction(engine) as session:
        states = sorted(
            session.execute(
                select(Obligation.key, Obligation.state, Obligation.escalation_level)
            ).all()
        )
        events = sorted(
            session.execute(
                select(
                    AuditEvent.entity,
                    AuditEvent.entity_id,
                    AuditEvent.trigger,
                    AuditEvent.from_state,
                    AuditEvent.to_state,
                    AuditEvent.at,
                )
            ).all()
        )
    return [tuple(s) for s in states], [tuple(e) for e in events]


def test_a_run_cut_short_is_finished_by_running_again(town: Engine, tmp_path: Path) -> None:
    """A crash between tasks leaves each finished task committed; the re-run completes the
    job, and no transition is taken twice."""
    _facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-02-01")
    url = town.url.render_as_string(hide_password=False)
    day = dt.date(2023, 5, 20)
    for task in (
        flow.start_run,
        flow.deploy_plan,
        flow.hold_branch_sessions,
        flow.collect_reports,
        flow.screen_members,
        flow.commend_exemplars,
        flow.report_upward,
    ):
        task.fn("T23", day, "tester", url)
    flow.deadline_sweep.fn("T23", day, "tester", url, ["/TOWN/G1/"])  # … and the process dies
    _run(town, "2023-05-20")
    states, events = _end_state(town)
    assert len(events) == len(set(events)), "a transition was repeated"
    control = tmp_path / "control"
    control.mkdir()

    other = make_engine(f"sqlite:///{control / 'c.db'}")

    migrate(other)
    load_town(other, control)
    _facts(other, control, "on-time.csv", ON_TIME)
    _run(other, "2023-02-01")
    _run(other, "2023-05-20")
    assert _end_state(other) == (states, events)
    other.dispose()


def test_the_daily_run_skips_a_refused_campaign_and_runs_the_others(
    town: Engine, tmp_path: Path
) -> None:
    from flows.campaign_flow import daily_campaigns

    _register_2024(town, tmp_path)
    _run(town, "2023-05-20")
    url = town.url.render_as_string(hide_password=False)
    assert daily_campaigns(dt.date(2023, 5, 19), url) == ["T24"]
    with transaction(town) as session:
        assert campaign_status(session, "T24").as_of == dt.date(2023, 5, 19)


def test_notices_are_announced_one_event_each_or_grouped_by_step_and_level() -> None:
    notices = [
        NoticeView(
            unit=f"U{i}",
            unit_name=f"Chi bộ {i}",
            step=step,
            level=level,
            obligations=["self_assess"],
            members=i,
            document=f"notice:U{i}:{step}:{level}:2023-05-20",
        )
        for i, (step, level) in enumerate(
            [("overdue", 0)] * 7 + [("escalation", 1)] * 2 + [("escalation", 2)]
        )
    ]
    day = dt.date(2023, 5, 20)
    each = flow.announcements("T23", day, notices, "notice")
    assert [
        (e["event"], e["resource"]["campaign.unit"], e["resource"]["prefect.resource.name"])
        for e in each
    ] == [(f"campaign.obligation.{n.step}", n.unit, n.unit_name) for n in notices]
    assert {e["payload"]["title"] for e in each} == {
        STEP_TITLES["overdue"],
        STEP_TITLES["escalation"],
    }
    # Prefect's maximum of 13 related resources leaves 3 units an event beside the run's own.
    with temporary_settings(updates={PREFECT_SERVER_EVENTS_MAXIMUM_RELATED_RESOURCES: 13}):
        grouped = flow.announcements("T23", day, notices, "step")
    assert [
        (e["resource"]["prefect.resource.id"], [r["campaign.unit"] for r in e["related"]])
        for e in grouped
    ] == [
        ("campaign.T23.step.overdue.0", ["U0", "U1", "U2"]),
        ("campaign.T23.step.overdue.0", ["U3", "U4", "U5"]),
        ("campaign.T23.step.overdue.0", ["U6"]),
        ("campaign.T23.step.escalation.1", ["U7", "U8"]),
        ("campaign.T23.step.escalation.2", ["U9"]),
    ]
    assert [n["document"] for e in grouped for n in e["payload"]["notices"]] == [
        n.document for n in notices
    ]
    for event in grouped:  # what emit_event builds from them is a valid Prefect event
        Event(**event)
