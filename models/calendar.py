"""Dates as the campaign sees them: 'today' in the committee's timezone, and the working days of
Vietnam's offices.

The working calendar is the `holidays` package's Vietnam (the lunar holidays — Tết, Hùng Kings —
with their compensatory days and the swaps it knows) plus a calendar file (YAML) for what it
does not know: the government's yearly swaps (a weekday off, a Saturday worked in its place) and
local days off. A calendar file is read like a plan: safely, validated whole, every problem named
by its key."""

import datetime as dt
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.errors import InputError
from models.settings import get_settings
from models.yamlfile import KeyProblem, read_yaml

# The calendar shipped beside the seed plans: what a plan uses unless it names another.
SHIPPED_CALENDAR = Path(__file__).resolve().parents[1] / "plans" / "calendar-vn.yaml"
SATURDAY = 5
WEEKDAYS_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def today() -> dt.date:
    """Today's date in the configured timezone (Asia/Ho_Chi_Minh by default)."""
    return dt.datetime.now(ZoneInfo(get_settings().timezone)).date()


class Swap(BaseModel):
    """A swap decided by the government: a weekday given off, a weekend day worked for it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    day_off: dt.date
    worked: dt.date
    source: str = Field(default="", max_length=255)

    @model_validator(mode="after")
    def _weekday_for_weekend(self) -> Self:
        wrong = []
        if self.day_off.weekday() >= SATURDAY:
            wrong.append(f"day_off ({self.day_off:%d/%m/%Y}) is a weekend day, not a working day")
        if self.worked.weekday() < SATURDAY:
            wrong.append(f"worked ({self.worked:%d/%m/%Y}) is a weekday, worked anyway")
        if wrong:
            raise ValueError("; ".join(wrong))
        return self


class LocalDayOff(BaseModel):
    """A day off decided locally (a province's or the committee's own)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    date: dt.date
    name: str = Field(min_length=1, max_length=255)
    source: str = Field(default="", max_length=255)


class CalendarFile(BaseModel):
    """A calendar file: the swaps and local days off the `holidays` package does not know."""

    model_config = ConfigDict(extra="forbid")
    country: str = Field(default="VN", pattern="^VN$")
    swaps: list[Swap] = []
    local: list[LocalDayOff] = []

    @model_validator(mode="after")
    def _each_day_once(self) -> Self:
        days = [s.day_off for s in self.swaps] + [s.worked for s in self.swaps]
        days += [d.date for d in self.local]
        twice = sorted({d for d in days if days.count(d) > 1})
        if twice:
            listed = ", ".join(f"{d:%d/%m/%Y}" for d in twice)
            raise ValueError(f"a day is listed more than once: {listed}")
        return self


def read_calendar(path: Path) -> CalendarFile:
    """Read and validate a calendar file (YAML, read safely, at most the settings' size);
    InputError names every problem by its key."""
    return read_yaml(path, CalendarFile, "calendar")


class DaySource(StrEnum):
    """Why a day is off."""

    holiday = "holiday"
    swap = "weekend swap"
    local = "local"


class DayOff(BaseModel):
    """A day off the calendar knows besides ordinary weekends, named in Vietnamese."""

    date: dt.date
    name: str
    source: DaySource


class WorkingCalendar:
    """Vietnam's working days: Monday to Friday, less holidays, swaps and local days off, plus
    the weekend days worked by a swap."""

    def __init__(self, file: CalendarFile | None = None) -> None:
        file = file or CalendarFile()
        self._worked = {s.worked for s in file.swaps}
        self._extra = {s.day_off: _swap_day(s) for s in file.swaps}
        for day in file.local:
            self._extra[day.date] = DayOff(date=day.date, name=day.name, source=DaySource.local)
        self._years: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}

    def _year(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        """The year's days off besides weekends, and its weekend days worked."""
        if year not in self._years:
            known = _holidays(year)
            worked = {d for d in known.weekend_workdays | self._worked if d.year == year}
            off = {d for d in known if d not in worked}
            off |= {d for d in self._extra if d.year == year}
            self._years[year] = frozenset(off), frozenset(worked)
        return self._years[year]

    def is_working_day(self, day: dt.date) -> bool:
        """True when offices work on `day`."""
        off, worked = self._year(day.year)
        if day.weekday() >= SATURDAY:
            return day in worked
        return day not in off

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day on or after `day`."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def previous_working_day(self, day: dt.date) -> dt.date:
        """The last working day on or before `day`."""
        while not self.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The `n`-th working day after `day` (before it when `n` is negative; `day` itself is
        not counted); `day` itself when `n` is 0."""
        step = dt.timedelta(days=1 if n > 0 else -1)
        for _ in range(abs(n)):
            day += step
            while not self.is_working_day(day):
                day += step
        return day

    def days_off(self, year: int) -> list[DayOff]:
        """Every day off of `year` besides ordinary weekends, in date order."""
        off = self._year(year)[0]
        known = _holidays(year)
        days = [
            self._extra.get(d) or DayOff(date=d, name=known[d], source=DaySource.holiday)
            for d in off
        ]
        return sorted(days, key=lambda d: d.date)

    def worked_days(self, year: int) -> list[dt.date]:
        """The weekend days of `year` worked by a swap."""
        return sorted(self._year(year)[1])


def _holidays(year: int) -> Any:
    """The `holidays` package's Vietnam for `year`, named in Vietnamese (imported when first
    needed: it costs every command a tenth of a second otherwise)."""
    import holidays

    return holidays.country_holidays("VN", years=year, language="vi")


def _swap_day(swap: Swap) -> DayOff:
    weekday = WEEKDAYS_VI[swap.worked.weekday()].lower()
    name = f"Nghỉ hoán đổi (làm bù {weekday} {swap.worked:%d/%m/%Y})"
    return DayOff(date=swap.day_off, name=name, source=DaySource.swap)


def load_calendar(path: Path | None = None) -> WorkingCalendar:
    """The working calendar of the calendar file at `path` (default: the shipped one), read
    once per version of the file."""
    path = (path or SHIPPED_CALENDAR).resolve()
    try:
        version = path.stat().st_mtime_ns
    except OSError as exc:
        message = f"cannot read the calendar: {exc.strerror}"
        raise InputError([KeyProblem(path.name, None, None, message)]) from exc
    return _cached_calendar(path, version)


@lru_cache(maxsize=16)
def _cached_calendar(path: Path, version: int) -> WorkingCalendar:
    return WorkingCalendar(read_calendar(path))
