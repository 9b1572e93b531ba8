"""Deadlines on Vietnam's working days: the ladder of a plan with `days: working` run day by day
through 30/4–1/5 and 2/9 of 2023 and Tết 2024, beside the same plan in calendar days."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from campaign.intake.plan_register import register_plan
from campaign.reconcile import reconcile
from campaign.status import campaign_status
from models.calendar import SHIPPED_CALENDAR, load_calendar
from models.campaigns import get_campaign
from models.db import transaction
from models.documents import Document
from models.obligations import Obligation
from models.plans import DayCount, read_plan
from states.conditions import step_dates
from tests.cli_process import run_cli
from tests.town import plan_for

# Dates chosen so that calendar days land steps on days off: sessions and self-assessments due
# Friday 28/04/2023 (overdue on Saturday 29/04, Hùng Kings), the grassroots' reports due Thursday
# 31/08/2023 (overdue on 01/09, National Day), the town's synthesis due Wednesday 07/02/2024
# (overdue on 08/02, Tết; its first escalation on 14/02).
DATES: dict[str, Any] = {
    "issued_on": "2023-04-10",
    "period": {"start": "2023-04-17", "end": "2023-04-28"},
    "implementation_plan_due": "2023-04-21",
    "self_assessment_due": "2023-04-28",
    "reports": {"grassroots_due": "2023-08-31", "synthesis_due": "2024-02-07"},
}
# Every day of these stretches is a run, as the daily deployment does: a step is issued on the
# first run its rule holds, so a notice on a day off would show.
WINDOWS = [("2023-04-17", "2023-05-26"), ("2023-08-18", "2023-09-28"), ("2024-01-25", "2024-03-08")]


def _register(engine: Engine, tmp_path: Path, code: str, **escalation: str) -> None:
    folder = tmp_path / code
    folder.mkdir()
    ladder = {"remind_days_before": 7, "step_days": 7, **escalation}
    path = plan_for(folder, "la-gi-2023.yaml", code=code, escalation=ladder, **DATES)
    with transaction(engine) as session:
        register_plan(path, session=session)


def _run_through_windows(engine: Engine, codes: list[str]) -> None:
    for first, last in WINDOWS:
        day = dt.date.fromisoformat(first)
        while day <= dt.date.fromisoformat(last):
            for code in codes:
                reconcile(engine, code, day, "tester")
            day += dt.timedelta(days=1)


def _notices(engine: Engine, code: str) -> dict[tuple[str, str], dt.date]:
    """When each unit got each step's notice (the first, if several)."""
    with transaction(engine) as session:
        campaign_id = get_campaign(session, code).id
        rows = session.execute(
            select(Document.kind, Document.key, Document.issued_on)
            .where(Document.campaign_id == campaign_id, Document.kind.startswith("notice_"))
            .order_by(Document.issued_on)
        ).all()
    found: dict[tuple[str, str], dt.date] = {}
    for kind, key, issued_on in rows:
        found.setdefault((kind, key), issued_on)
    return found


@pytest.mark.slow  # some 120 runs of two campaigns
def test_a_working_days_plan_issues_no_notice_on_a_day_off(town: Engine, tmp_path: Path) -> None:
    _register(town, tmp_path, "W23", days="working")
    _register(town, tmp_path, "C23", days="calendar")
    _run_through_windows(town, ["W23", "C23"])
    calendar = load_calendar()
    working, by_calendar = _notices(town, "W23"), _notices(town, "C23")
    days = lambda notices: set(notices.values())  # noqa: E731

    assert len(working) == len(by_calendar) > 10  # every step of every obligation, both ways
    assert {d for d in days(working) if not calendar.is_working_day(d)} == set()
    # The same plan in calendar days does issue on days off: the test can see one.
    off = {d for d in days(by_calendar) if not calendar.is_working_day(d)}
    assert {dt.date(2023, 4, 29), dt.date(2023, 9, 1), dt.date(2024, 2, 8)} <= off
    for stretch in [(2023, 4, 29, 5, 3), (2023, 9, 1, 9, 4), (2024, 2, 8, 2, 14)]:
        year, m1, d1, m2, d2 = stretch
        start, end = dt.date(year, m1, d1), dt.date(year, m2, d2)
        assert not [d for d in days(working) if start <= d <= end], stretch

    # The steps fall where the working days put them.
    assert set(days(working)) >= {
        dt.date(2023, 4, 19),  # reminder: 7 working days before Friday 28/04
        dt.date(2023, 5, 4),  # overdue: the first working day after 28/04 (29/04–03/05 off)
        dt.date(2023, 5, 15),  # level 1: 7 working days after the overdue day
        dt.date(2023, 5, 24),  # level 2: 7 more
        dt.date(2023, 9, 5),  # reports due 31/08: overdue after 01/09–04/09
        dt.date(2024, 1, 29),  # synthesis due 07/02/2024: reminded 7 working days before
        dt.date(2024, 2, 15),  # … overdue after Tết (08/02–14/02)
        dt.date(2024, 2, 26),  # … level 1
        dt.date(2024, 3, 6),  # … level 2
    }


def test_the_shipped_seed_plans_count_working_days() -> None:
    """Party offices count deadlines in working days: every plan in plans/ says so, and the
    ladder of each due date it sets steps on working days only."""
    seeds = sorted(p for p in SHIPPED_CALENDAR.parent.glob("*.yaml") if p != SHIPPED_CALENDAR)
    assert len(seeds) >= 2, seeds
    for path in seeds:
        plan = read_plan(path)
        ladder = plan.escalation
        assert ladder.days is DayCount.working, path.name
        calendar = ladder.working_calendar()
        assert calendar is not None, path.name
        dues = [
            plan.implementation_plan_due,
            plan.self_assessment_due,
            *plan.reports.model_dump().values(),
        ]
        for due in map(ladder.due_on, dues):
            steps = step_dates(due, ladder.remind_days_before, ladder.step_days, calendar)
            days = [steps.reminded, steps.overdue, *steps.escalated]
            assert all(calendar.is_working_day(day) for day in days), (path.name, due, days)


def test_lateness_is_still_judged_by_the_facts_date(town: Engine, tmp_path: Path) -> None:
    """A session held on the due date is in time, on working days as on calendar days; one held
    the next working day is late, even when the overdue notice has not gone out yet."""
    _register(town, tmp_path, "W23", days="working")
    url = town.url.render_as_string(hide_password=False)
    reconcile(town, "W23", dt.date(2023, 4, 17), "tester")
    facts = tmp_path / "facts.csv"
    facts.write_text(
        "date,kind,unit,member,note\n2023-04-28,session_held,B1,,\n2023-05-04,session_held,B2,,\n",
        encoding="utf-8",
    )
    assert run_cli("facts", "import", "W23", facts, database_url=url).returncode == 0
    for day in (dt.date(2023, 5, 4), dt.date(2023, 5, 5)):
        reconcile(town, "W23", day, "tester")
    with transaction(town) as session:
        status = campaign_status(session, "W23")
    held = {
        u.code: o.state for u in status.units for o in u.obligations if o.kind == "hold_session"
    }
    assert (held["B1"], held["B2"]) == ("met", "met_late")


def _dues(engine: Engine, code: str) -> set[tuple[str, dt.date]]:
    with transaction(engine) as session:
        campaign_id = get_campaign(session, code).id
        rows = session.execute(
            select(Obligation.kind, Obligation.due).where(Obligation.campaign_id == campaign_id)
        ).all()
    return {(kind, due) for kind, due in rows}


def test_a_due_date_on_a_day_off_moves_to_the_next_working_day(
    town: Engine, tmp_path: Path
) -> None:
    moved = {**DATES, "reports": {"grassroots_due": "2023-09-02", "synthesis_due": "2024-02-10"}}
    for code, due_dates in (("M23", "next_working_day"), ("K23", "keep")):
        folder = tmp_path / code
        folder.mkdir()
        ladder = {"days": "working", "due_dates": due_dates}
        path = plan_for(folder, "la-gi-2023.yaml", code=code, escalation=ladder, **moved)
        with transaction(town) as session:
            register_plan(path, session=session)
        reconcile(town, code, dt.date(2023, 4, 17), "tester")
    assert _dues(town, "M23") == {
        ("issue_plan", dt.date(2023, 4, 21)),  # a working day: kept
        ("hold_session", dt.date(2023, 4, 28)),
        ("self_assess", dt.date(2023, 4, 28)),
        ("report_upward", dt.date(2023, 9, 5)),  # Saturday 02/09, National Day: to Tuesday 05/09
        ("report_upward", dt.date(2024, 2, 15)),  # Saturday 10/02, Tết: to Thursday 15/02
    }
    assert ("report_upward", dt.date(2023, 9, 2)) in _dues(town, "K23")
    with transaction(town) as session:
        status = campaign_status(session, "M23")
    shown = {(u.code, o.kind): o.due for u in status.units for o in u.obligations}
    assert shown[("G1", "report_upward")] == dt.date(2023, 9, 5)


def test_calendar_show_lists_the_days_off_of_a_year(tmp_path: Path) -> None:
    shown = run_cli("calendar", "show", "2024", database_url=f"sqlite:///{tmp_path / 'x.db'}")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any("10/02/2024" in line and "Thứ Bảy" in line and "Tết Nguyên Đán" in line
               for line in lines)  # fmt: skip
    assert any("29/04/2024" in line and "weekend swap" in line for line in lines)
    assert any("04/05/2024" in line and "worked" in line for line in lines)
    assert not any("06/04/2024" in line for line in lines)  # an ordinary Saturday

    wrong = tmp_path / "calendar.yaml"
    wrong.write_text("swaps:\n  - {day_off: 2024-05-04, worked: 2024-05-05}\n", encoding="utf-8")
    refused = run_cli("calendar", "show", "2024", "--calendar", wrong, database_url="sqlite://")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: calendar.yaml, key swaps[0]: day_off (04/05/2024)")
