"""The working calendar on real dates, its calendar file, and the ladder's cutoffs on it."""

import datetime as dt
from pathlib import Path

import pytest
import yaml

from models.calendar import (
    SHIPPED_CALENDAR,
    DaySource,
    WorkingCalendar,
    load_calendar,
    read_calendar,
)
from models.errors import InputError
from models.plans import DayCount, DueDates, read_plan
from states.conditions import calendar_cutoffs, last_due, step_dates, working_cutoffs

PLANS = Path(__file__).parents[2] / "plans"


def d(text: str) -> dt.date:
    """A date as a Vietnamese office writes it: dd/mm/yyyy."""
    day, month, year = map(int, text.split("/"))
    return dt.date(year, month, day)


@pytest.fixture(scope="module")
def vn() -> WorkingCalendar:
    return load_calendar()


@pytest.mark.parametrize(
    "day",
    [
        # 29/04/2023 Hùng Kings (Sat), 30/4 (Sun), 1/5, and their compensatory days 2/5 and 3/5
        "29/04/2023", "30/04/2023", "01/05/2023", "02/05/2023", "03/05/2023",
        "01/09/2023", "02/09/2023", "04/09/2023",  # National Day's two days, 2/9 on a Saturday
        "08/02/2024", "09/02/2024", "12/02/2024", "13/02/2024", "14/02/2024",  # Tết Giáp Thìn
        "29/04/2024",  # a Monday off, swapped for Saturday 04/05/2024
        "02/05/2025",  # a Friday off, swapped for Saturday 26/04/2025
        "06/05/2023",  # an ordinary Saturday
    ],
)  # fmt: skip
def test_days_off(vn: WorkingCalendar, day: str) -> None:
    assert not vn.is_working_day(d(day))


@pytest.mark.parametrize(
    "day",
    [
        "28/04/2023", "04/05/2023", "31/08/2023", "05/09/2023", "07/02/2024", "15/02/2024",
        "04/05/2024", "26/04/2025",  # Saturdays worked, from the swaps
    ],
)  # fmt: skip
def test_working_days(vn: WorkingCalendar, day: str) -> None:
    assert vn.is_working_day(d(day))


def test_a_swap_from_the_file_is_what_makes_the_saturday_worked(tmp_path: Path) -> None:
    bare = WorkingCalendar()
    assert not bare.is_working_day(d("08/02/2025"))  # a plain Saturday after Tết 2025
    path = tmp_path / "calendar.yaml"
    swap = {"day_off": dt.date(2025, 2, 3), "worked": dt.date(2025, 2, 8), "source": "thử"}
    path.write_text(yaml.safe_dump({"swaps": [swap]}), encoding="utf-8")
    swapped = load_calendar(path)
    assert swapped.is_working_day(d("08/02/2025"))
    assert not swapped.is_working_day(d("03/02/2025"))
    (off,) = [x for x in swapped.days_off(2025) if x.date == d("03/02/2025")]
    assert off.source is DaySource.swap and "08/02/2025" in off.name


def test_moving_between_working_days(vn: WorkingCalendar) -> None:
    assert vn.next_working_day(d("29/04/2023")) == d("04/05/2023")
    assert vn.next_working_day(d("04/05/2023")) == d("04/05/2023")
    assert vn.previous_working_day(d("03/05/2023")) == d("28/04/2023")
    assert vn.next_working_day(d("08/02/2024")) == d("15/02/2024")
    assert vn.add_working_days(d("28/04/2023"), 1) == d("04/05/2023")
    assert vn.add_working_days(d("04/05/2023"), -1) == d("28/04/2023")
    assert vn.add_working_days(d("07/02/2024"), 2) == d("16/02/2024")
    assert vn.add_working_days(d("15/02/2024"), -3) == d("05/02/2024")
    # from a day off, the day itself does not count
    assert vn.add_working_days(d("02/09/2023"), 1) == d("05/09/2023")
    assert vn.add_working_days(d("02/09/2023"), -1) == d("31/08/2023")
    assert vn.add_working_days(d("02/09/2023"), 0) == d("02/09/2023")
    # the swap's Saturday counts: 03/05/2024 (Fri) → 04/05 (Sat, worked) → 06/05
    assert vn.add_working_days(d("03/05/2024"), 2) == d("06/05/2024")


def test_the_days_off_of_a_year_are_named_in_vietnamese(vn: WorkingCalendar) -> None:
    days = {x.date: x for x in vn.days_off(2024)}
    assert days[d("10/02/2024")].name == "Tết Nguyên Đán"
    assert days[d("10/02/2024")].source is DaySource.holiday
    assert days[d("29/04/2024")].source is DaySource.swap
    assert "04/05/2024" in days[d("29/04/2024")].name
    assert d("04/05/2024") not in days and vn.worked_days(2024) == [d("04/05/2024")]
    assert list(days) == sorted(days)
    assert all(x.date.year == 2024 for x in days.values())


def test_a_local_day_off(tmp_path: Path) -> None:
    path = tmp_path / "local.yaml"
    local = {"date": dt.date(2023, 11, 20), "name": "Ngày truyền thống của tỉnh"}
    path.write_text(yaml.safe_dump({"local": [local]}, allow_unicode=True), encoding="utf-8")
    calendar = load_calendar(path)
    assert not calendar.is_working_day(d("20/11/2023"))
    (day,) = [x for x in calendar.days_off(2023) if x.date == d("20/11/2023")]
    assert (day.name, day.source) == ("Ngày truyền thống của tỉnh", DaySource.local)


def test_the_shipped_calendar_reads() -> None:
    shipped = read_calendar(SHIPPED_CALENDAR)
    assert {s.worked for s in shipped.swaps} == {d("04/05/2024"), d("26/04/2025")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "swaps:\n  - {day_off: 2024-04-29, worked: 2024-05-04}\n"
            "  - {day_off: 2024-05-04, worked: 2024-05-05}\n",
            "calendar.yaml, key swaps[1]: day_off (04/05/2024) is a weekend day, not a working day",
        ),
        (
            "swaps:\n  - {day_off: 2024-04-29, worked: 2024-05-03}\n",
            "calendar.yaml, key swaps[0]: worked (03/05/2024) is a weekday, worked anyway",
        ),
        (
            "swaps:\n  - {day_off: 2024-04-29, worked: 2024-05-04}\n"
            "  - {day_off: 2024-04-29, worked: 2024-05-04}\n",
            "calendar.yaml: a day is listed more than once: 29/04/2024, 04/05/2024",
        ),
        (
            "swaps:\n  - {day_off: 2024-04-29, worked: 2024-05-04}\n"
            "  - {day_off: 2024-04-29, wroked: 2024-05-04}\n",
            "calendar.yaml, key swaps[1].worked: Field required",
        ),
        (
            "swaps:\n  - {day_off: 2024-04-29, worked: 2024-05-04}\n  - {day_off: soon}\n",
            "calendar.yaml, key swaps[1].day_off: Input should be a valid date",
        ),
        ("local:\n  - {date: 2023-11-20, name: ''}\n", "calendar.yaml, key local[0].name"),
        ("holidays: []\n", "calendar.yaml, key holidays: Extra inputs are not permitted"),
        ("country: TH\n", "calendar.yaml, key country: String should match pattern"),
        ("- 2023-11-20\n", "calendar.yaml: a calendar is a YAML mapping of keys"),
        (
            "local: [{date: 2023-02-30, name: x}]\n",
            "calendar.yaml, key local[0].date: Input should be a valid date",
        ),
    ],
)
def test_a_wrong_calendar_is_refused_by_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_calendar(path)
    assert any(line.startswith(expected) for line in caught.value.lines()), caught.value.lines()


def test_a_plan_says_how_its_deadlines_count(tmp_path: Path) -> None:
    assert read_plan(PLANS / "la-gi-2023.yaml").escalation.days in (
        DayCount.calendar,
        DayCount.working,
    )
    data = yaml.safe_load((PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8"))
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "local.yaml").write_text("local: []\n", encoding="utf-8")
    data["escalation"] = {
        "days": "working",
        "due_dates": "next_working_day",
        "calendar": "cal/local.yaml",
    }
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ladder = read_plan(path).escalation
    assert (ladder.days, ladder.due_dates) == (DayCount.working, DueDates.next_working_day)
    assert ladder.calendar == str((tmp_path / "cal" / "local.yaml").resolve())
    assert ladder.due_on(d("30/04/2023")) == d("04/05/2023")
    assert ladder.working_calendar() is not None

    data["escalation"] = {"days": "weekdays"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"key escalation\.days"):
        read_plan(path)
    data["escalation"] = {"calendar": "missing.yaml"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"key escalation\.calendar: no calendar file"):
        read_plan(path)
    (tmp_path / "broken.yaml").write_text("swaps: [{day_off: 2024-05-04}]\n", encoding="utf-8")
    data["escalation"] = {"calendar": "broken.yaml"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_plan(path)
    assert caught.value.lines() == [
        "plan.yaml, key escalation.calendar: broken.yaml, key swaps[0].worked: Field required"
    ]


def test_a_plan_in_calendar_days_keeps_its_stored_form(tmp_path: Path) -> None:
    """The new keys at their defaults are not stored: a plan registered before them is the same
    plan, so registering it again after a run is no change."""
    data = yaml.safe_load((PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8"))
    data["escalation"] = {"remind_days_before": 7, "step_days": 7}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    plan = read_plan(path)
    assert plan.model_dump(mode="json")["escalation"] == {"remind_days_before": 7, "step_days": 7}
    assert plan.escalation.working_calendar() is None
    assert plan.escalation.due_on(d("30/04/2023")) == d("30/04/2023")


@pytest.mark.parametrize("as_of", ["01/05/2023", "04/05/2023", "14/02/2024", "06/05/2024"])
@pytest.mark.parametrize(("remind", "step"), [(0, 1), (7, 7), (3, 30)])
def test_the_working_cutoffs_are_the_latest_due_dates_that_reached_each_step(
    vn: WorkingCalendar, as_of: str, remind: int, step: int
) -> None:
    """Checked against the ladder's dates themselves, due date by due date."""
    today = d(as_of)
    cut = working_cutoffs(vn, today, remind, step)

    def steps(due: dt.date) -> list[dt.date]:
        overdue = vn.add_working_days(due, 1)
        reminded = vn.previous_working_day(vn.add_working_days(due, -remind))
        ladder = [reminded, overdue, *(vn.add_working_days(overdue, step * n) for n in (1, 2))]
        found = step_dates(due, remind, step, vn)
        assert ladder == [found.reminded, found.overdue, *found.escalated]
        return ladder

    for offset in range(-130, 60):
        due = today + dt.timedelta(days=offset)
        reached = [on <= today for on in steps(due)]
        assert reached == [
            due <= cut.remind_due_by,
            due < cut.past_due_before,
            due <= cut.escalate_due_by[0],
            due <= cut.escalate_due_by[1],
        ], due


def test_the_calendar_cutoffs_are_todays_arithmetic() -> None:
    cut = calendar_cutoffs(d("20/05/2023"), 7, 7)
    assert cut.remind_due_by == d("27/05/2023")
    assert cut.past_due_before == d("20/05/2023")
    assert cut.escalate_due_by == (d("13/05/2023"), d("06/05/2023"))


def test_last_due_searches_both_ways() -> None:
    today = d("01/01/2024")
    assert last_due(lambda due: due + dt.timedelta(days=100), today) == d("23/09/2023")
    assert last_due(lambda due: due - dt.timedelta(days=45), today) == d("15/02/2024")


@pytest.mark.parametrize(("remind", "step"), [(0, 1), (7, 7), (90, 90)])
def test_the_calendar_cutoffs_are_those_of_the_calendar_step_dates(remind: int, step: int) -> None:
    """The rules' calendar arithmetic and the dates a forecast would give agree, due by due."""
    today = d("20/05/2023")
    cut = calendar_cutoffs(today, remind, step)
    for offset in range(-200, 120):
        due = today + dt.timedelta(days=offset)
        steps = step_dates(due, remind, step)
        assert [on <= today for on in (steps.reminded, steps.overdue, *steps.escalated)] == [
            due <= cut.remind_due_by,
            due < cut.past_due_before,
            due <= cut.escalate_due_by[0],
            due <= cut.escalate_due_by[1],
        ], due


@pytest.mark.parametrize("what", ["plan", "calendar"])
def test_a_yaml_file_past_the_size_limit_is_refused_unread(tmp_path: Path, what: str) -> None:
    """Plans and calendars share one reader: at most 1 MiB, refused by name before parsing."""
    path = tmp_path / f"{what}.yaml"
    path.write_text("# " + "x" * (1 << 20) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_plan(path) if what == "plan" else read_calendar(path)
    assert str(refused.value.problems[0]).startswith(f"{what}.yaml: the {what} is 1,048,579 bytes")
