"""The forecast: made at a date, it is what the runs at the later dates then do when no new
fact arrives, obligation by obligation, checked by running them; on calendar and working days."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DBAPIError

from campaign.forecast import _steps, forecast
from campaign.intake.plan_register import register_plan
from campaign.reconcile import reconcile
from models.calendar import load_calendar
from models.campaigns import get_campaign
from models.db import read_only, transaction
from models.members import Member
from models.obligations import Obligation
from models.units import Unit
from models.views import ForecastView, ObligationForecast
from states.conditions import step_dates
from tests.campaign.test_working_days import DATES
from tests.cli_process import run_cli
from tests.scenario import ON_TIME
from tests.scenario import record_facts as _facts
from tests.town import plan_for

DAY = dt.timedelta(days=1)


def _run(engine: Engine, code: str, day: dt.date) -> None:
    reconcile(engine, code, day, "tester")


def _forecast(engine: Engine, code: str, as_of: dt.date) -> ForecastView:
    with read_only(engine) as session:
        return forecast(session, code, as_of)


Who = tuple[str, str, str, str | None]  # unit, kind, window, member (None: the unit's own)


def _stored(engine: Engine, code: str) -> dict[Who, tuple[str, int]]:
    """Every obligation of the campaign: its state and escalation level."""
    with transaction(engine) as session:
        query = (
            select(
                Unit.code,
                Obligation.kind,
                Obligation.window,
                Member.code,
                Obligation.state,
                Obligation.escalation_level,
            )
            .join(Unit, Unit.id == Obligation.unit_id)
            .outerjoin(Member, Member.id == Obligation.member_id)
            .where(Obligation.campaign_id == get_campaign(session, code).id)
        )
        return {(u, k, w, m): (s, level) for u, k, w, m, s, level in session.execute(query)}


def _expected(entry: ObligationForecast, day: dt.date) -> tuple[str, int]:
    """Where the forecast puts an obligation at `day`: its last step on or before it."""
    state, level = entry.state, entry.level
    for step in entry.steps:
        if step.on <= day:
            state, level = step.to, step.level
    return state, level


def _forecasts(view: ForecastView) -> dict[Who, ObligationForecast]:
    return {
        (o.unit, o.obligation, o.window or "", member): o
        for o in view.obligations
        for member in o.members or [None]
    }


def _check_by_running(engine: Engine, code: str, view: ForecastView) -> int:
    """Run at every step's date and the day before; after each run, every forecast obligation
    stands where the forecast said (a step taken a day early or late shows). Returns steps."""
    forecasts = _forecasts(view)
    stored = _stored(engine, code)
    unmet = {who for who, (state, _) in stored.items() if state not in ("met", "met_late")}
    assert set(forecasts) == unmet - {w for w in unmet if stored[w][0] == "waived"}
    steps = [step for o in view.obligations for step in o.steps]
    for day in sorted({d for step in steps for d in (step.on - DAY, step.on) if d >= view.as_of}):
        _run(engine, code, day)
        now = _stored(engine, code)
        wrong = {
            who: (now[who], _expected(entry, day))
            for who, entry in forecasts.items()
            if now[who] != _expected(entry, day)
        }
        assert not wrong, f"at {day}: {wrong}"
    return len(steps)


def _in_calendar_days(engine: Engine, tmp_path: Path) -> str:
    """The town's plan with a ladder that says `days: calendar` (the seed plan counts working
    days), registered as campaign C23; its code."""
    folder = tmp_path / "C23"
    folder.mkdir()
    ladder = {"remind_days_before": 7, "step_days": 7, "days": "calendar"}
    with transaction(engine) as session:
        register_plan(
            plan_for(folder, "la-gi-2023.yaml", code="C23", escalation=ladder), session=session
        )
    return "C23"


def test_a_forecast_is_what_the_runs_then_do(town: Engine, tmp_path: Path) -> None:
    code = _in_calendar_days(town, tmp_path)
    as_of = dt.date(2023, 3, 15)
    on_time = [row for row in ON_TIME if row[0] <= as_of.isoformat()]
    _facts(town, tmp_path, "on-time.csv", on_time, code=code)
    _run(town, code, dt.date(2023, 2, 1))
    _run(town, code, as_of)
    view = _forecast(town, code, as_of)

    entries = {(o.unit, o.obligation): o for o in view.obligations}
    assert entries[("G2", "issue_plan")].state == "escalated"
    assert entries[("G2", "issue_plan")].steps == []  # at the ladder's top already
    assert entries[("G2", "self_assess")].members == ["M6", "M7"]
    b2 = entries[("B2", "hold_session")]
    assert [(s.to, s.level, s.on) for s in b2.steps] == [
        ("reminded", 0, dt.date(2023, 5, 12)),
        ("overdue", 0, dt.date(2023, 5, 20)),
        ("escalated", 1, dt.date(2023, 5, 26)),
        ("escalated", 2, dt.date(2023, 6, 2)),
    ]
    assert all(s.on > as_of for o in view.obligations for s in o.steps), "taken at as_of"
    assert _check_by_running(town, code, view) > 20


def test_a_step_due_but_not_yet_taken_is_the_next_runs(town: Engine, tmp_path: Path) -> None:
    """Forecast on a date no run has reached yet: what is already due is taken by the run at
    that date, and shown on it."""
    code = _in_calendar_days(town, tmp_path)
    _run(town, code, dt.date(2023, 2, 1))
    as_of = dt.date(2023, 2, 20)
    view = _forecast(town, code, as_of)
    g2 = next(o for o in view.obligations if (o.unit, o.obligation) == ("G2", "issue_plan"))
    assert (g2.state, [(s.to, s.level, s.on) for s in g2.steps]) == (
        "open",
        [
            ("reminded", 0, as_of),  # due 08/02
            ("overdue", 0, as_of),  # due 16/02
            ("escalated", 1, dt.date(2023, 2, 22)),
            ("escalated", 2, dt.date(2023, 3, 1)),
        ],
    )
    assert _check_by_running(town, code, view) > 20


def test_a_working_days_forecast_is_what_the_runs_then_do(town: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "W23"
    folder.mkdir()
    ladder = {"remind_days_before": 7, "step_days": 7, "days": "working"}
    with transaction(town) as session:
        register_plan(
            plan_for(folder, "la-gi-2023.yaml", code="W23", escalation=ladder, **DATES),
            session=session,
        )
    as_of = dt.date(2023, 4, 18)
    _run(town, "W23", as_of)
    view = _forecast(town, "W23", as_of)

    calendar = load_calendar()
    steps = {(o.unit, o.obligation): o.steps for o in view.obligations}
    assert [s.on for s in steps[("B1", "self_assess")]] == [
        dt.date(2023, 4, 19),  # reminder: 7 working days before Friday 28/04
        dt.date(2023, 5, 4),  # overdue: the first working day after 28/04 (29/04–03/05 off)
        dt.date(2023, 5, 15),
        dt.date(2023, 5, 24),
    ]
    assert all(calendar.is_working_day(s.on) for o in view.obligations for s in o.steps)
    assert all(s.on > as_of for o in view.obligations for s in o.steps), "taken at as_of"
    assert _check_by_running(town, "W23", view) > 20


def test_the_forecast_writes_nothing(town: Engine) -> None:
    _run(town, "T23", dt.date(2023, 2, 1))
    with read_only(town) as session:
        forecast(session, "T23", dt.date(2023, 2, 1))
        with pytest.raises(DBAPIError):
            session.execute(update(Obligation).values(state="met"))
    with transaction(town) as session:  # the connection, back in the pool, writes again
        session.execute(update(Obligation).values(escalation_level=Obligation.escalation_level))


def test_forecast_json_through_the_cli(town: Engine) -> None:
    _run(town, "T23", dt.date(2023, 2, 1))
    url = town.url.render_as_string(hide_password=False)
    done = run_cli("forecast", "T23", "--as-of", "2023-02-01", "--format", "json", database_url=url)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert set(found) == {"campaign", "as_of", "obligations", "targets"}
    assert (found["campaign"], found["as_of"]) == ("T23", "2023-02-01")
    by_unit = {(o["unit"], o["obligation"]): o for o in found["obligations"]}
    assert set(by_unit[("G1", "issue_plan")]) == {
        "unit",
        "unit_name",
        "obligation",
        "due",
        "state",
        "level",
        "members",
        "steps",
    }
    assert by_unit[("G1", "issue_plan")]["members"] is None
    assert by_unit[("G1", "issue_plan")]["steps"] == [  # the seed plan counts working days
        {"to": "reminded", "level": 0, "on": "2023-02-06"},
        {"to": "overdue", "level": 0, "on": "2023-02-16"},
        {"to": "escalated", "level": 1, "on": "2023-02-27"},
        {"to": "escalated", "level": 2, "on": "2023-03-08"},
    ]
    assert by_unit[("B1", "self_assess")]["members"] == ["M1", "M2"]
    assert [t["name"] for t in found["targets"]] == [
        "members_self_assessed",
        "leaders_self_assessed",
        "branches_with_sessions",
    ]
    assert found["targets"][0] == {
        "name": "members_self_assessed",
        "done": 0,
        "eligible": 5,
        "percent": 0.0,
        "due": "2023-05-19",
        "per_day": 0.0,
        "projected_percent": 0.0,
    }

    g1 = run_cli("forecast", "T23", "--as-of", "01/02/2023", "--unit", "G1", database_url=url)
    assert g1.returncode == 0, g1.stderr
    assert "B1 Chi bộ khu phố 1" in g1.stdout and "G2" not in g1.stdout
    assert "06/02/2023" in g1.stdout  # G1's reminder, 7 working days before 15/02

    nowhere = run_cli("forecast", "T23", "--unit", "NOPE", database_url=url)
    assert (nowhere.returncode, nowhere.stderr) == (1, "error: no unit 'NOPE'\n")
    past = run_cli("forecast", "T23", "--as-of", "2023-01-31", database_url=url)
    assert (past.returncode, past.stderr) == (
        1,
        "error: campaign T23 was run as of 01/02/2023: a forecast starts from that date or later\n",
    )


def test_the_forecast_does_not_start_prefect(town: Engine) -> None:
    _run(town, "T23", dt.date(2023, 2, 1))
    code = (
        "import sys\nfrom cli.app import app\n"
        "try:\n    app(['forecast', 'T23', '--as-of', '2023-02-01'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('prefect' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "CAMPAIGN_DATABASE_URL": town.url.render_as_string(hide_password=False)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"


def test_a_target_is_paced_over_the_period_so_far(town: Engine, tmp_path: Path) -> None:
    as_of = dt.date(2023, 3, 15)
    _facts(town, tmp_path, "on-time.csv", [row for row in ON_TIME if row[0] <= as_of.isoformat()])
    _run(town, "T23", as_of)
    members = _forecast(town, "T23", as_of).targets[0]
    # 2 of 5 self-assessed in the 43 days from 01/02 to 15/03, carried on 65 days to 19/05.
    assert (members.done, members.eligible, members.per_day) == (2, 5, round(2 / 43, 2))
    assert members.projected_percent == round(100 * min(2 + 2 / 43 * 65, 5) / 5, 1)


@pytest.mark.parametrize(
    ("state", "level", "ahead"),
    [
        ("open", 0, [("reminded", 0), ("overdue", 0), ("escalated", 1), ("escalated", 2)]),
        ("reminded", 0, [("overdue", 0), ("escalated", 1), ("escalated", 2)]),
        ("overdue", 0, [("escalated", 1), ("escalated", 2)]),
        ("escalated", 1, [("escalated", 2)]),
        ("escalated", 2, []),
    ],
)
def test_only_the_steps_ahead_of_the_state_are_forecast(
    state: str, level: int, ahead: list[tuple[str, int]]
) -> None:
    dates = step_dates(dt.date(2023, 5, 19), 7, 7)
    steps = _steps(dates, state, level)
    assert [(s.to, s.level) for s in steps] == ahead
    assert [s.on for s in steps] == sorted(s.on for s in steps)
