"""Campaign plans: the plan file's schema, the `campaign` table and plan registration."""

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from models.calendar import WorkingCalendar, load_calendar, read_calendar
from models.errors import InputError
from models.yamlfile import read_yaml


class Period(BaseModel):
    """The campaign's period, both days included."""

    model_config = ConfigDict(extra="forbid")
    start: date
    end: date


class SessionsPer(StrEnum):
    """Which unit owes the thematic sessions."""

    branch = "branch"
    grassroots = "grassroots"


class Cadence(StrEnum):
    """How often the sessions are owed."""

    period = "period"
    quarter = "quarter"


class SessionRule(BaseModel):
    """Who holds thematic sessions, how often and how many."""

    model_config = ConfigDict(extra="forbid")
    per: SessionsPer = SessionsPer.branch
    cadence: Cadence = Cadence.period
    minimum: int = Field(default=1, ge=1)


class Reports(BaseModel):
    """Deadlines of the reports upward."""

    model_config = ConfigDict(extra="forbid")
    grassroots_due: date
    synthesis_due: date


class DayCount(StrEnum):
    """How the ladder counts its days."""

    calendar = "calendar"
    working = "working"


class DueDates(StrEnum):
    """What becomes of a due date that falls on a day off."""

    keep = "keep"
    next_working_day = "next_working_day"


class Escalation(BaseModel):
    """The escalation ladder's parameters: how many days before a due date it reminds and
    between its steps, counted in calendar or working days, and whether a due date on a day off
    moves to the next working day. `calendar` names a calendar file (relative to the plan's
    folder; default: the shipped Vietnamese one)."""

    model_config = ConfigDict(extra="forbid")
    remind_days_before: int = Field(default=7, ge=0, le=90)
    step_days: int = Field(default=7, ge=1, le=90)
    days: DayCount = DayCount.calendar
    due_dates: DueDates = DueDates.keep
    calendar: str | None = Field(default=None, min_length=1, max_length=1024)

    @field_validator("calendar")
    @classmethod
    def _beside_the_plan(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A relative path is the plan's folder's (when the plan is read from its file)."""
        folder = (info.context or {}).get("plan_folder")
        if value is None or folder is None:
            return value
        path = Path(folder) / value
        if not path.is_file():
            raise ValueError(f"no calendar file {value} beside the plan")
        try:
            read_calendar(path)  # refused now rather than at the campaign's first run
        except InputError as exc:
            raise ValueError("; ".join(exc.lines()[:3])) from exc
        return str(path.resolve())

    @model_serializer(mode="wrap")
    def _as_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without the keys left at their default: a plan stored before they existed is the
        same plan (a changed plan is refused after the first run)."""
        data: dict[str, Any] = handler(self)
        for key in ("days", "due_dates", "calendar"):
            if getattr(self, key) == type(self).model_fields[key].default:
                data.pop(key, None)
        return data

    def working_calendar(self) -> WorkingCalendar | None:
        """The calendar the ladder counts on: None in calendar days."""
        return self.day_calendar() if self.days is DayCount.working else None

    def day_calendar(self) -> WorkingCalendar:
        """The plan's working calendar, whatever the ladder counts."""
        return load_calendar(Path(self.calendar) if self.calendar else None)

    def due_on(self, day: date) -> date:
        """A due date as the plan keeps it: moved to the next working day if it says so."""
        if self.due_dates is DueDates.next_working_day:
            return self.day_calendar().next_working_day(day)
        return day


# A kind of document in a committee's register: CV (công văn), BC (báo cáo), KH (kế hoạch) …
RegisterKind = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,8}$")]
RegisterCount = Annotated[int, Field(ge=0, le=999_999)]


class PlanFile(BaseModel):
    """A campaign plan as written in its YAML file (SPEC §6)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = Field(min_length=1, max_length=255)
    owner: str = Field(min_length=1, max_length=64)
    number: str = Field(default="", max_length=64)
    issued_on: date
    place: str = Field(default="", max_length=255)
    period: Period
    sessions: SessionRule = SessionRule()
    implementation_plan_due: date
    self_assessment_due: date | None = None
    reports: Reports
    escalation: Escalation = Escalation()
    # Where the issuing committee's register of documents stands when the plan is issued: the
    # last number it has given, by kind, in the plan's year (`register_stands_at: {CV: 11}`:
    # the engine's first notice that year is 12-CV). Kinds not named, later years, start at 1.
    register_stands_at: dict[RegisterKind, RegisterCount] = Field(default_factory=dict)
    # The last day a member admitted during the campaign still takes its duties: one who joins
    # the roster after it is excluded (none: every new member takes them).
    new_members_until: date | None = None

    @model_serializer(mode="wrap")
    def _as_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without an empty register or cut-off: a plan stored before the keys existed is the
        same plan."""
        data: dict[str, Any] = handler(self)
        if not self.register_stands_at:
            data.pop("register_stands_at", None)
        if self.new_members_until is None:
            data.pop("new_members_until", None)
        return data

    def register_start(self, kind: str, year: int) -> int:
        """The last number the committee's register gave to `kind` before the engine, in `year`."""
        return self.register_stands_at.get(kind, 0) if year == self.issued_on.year else 0

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.self_assessment_due is None:
            self.self_assessment_due = self.period.end
        checks = [
            ("period.start", self.issued_on <= self.period.start, "issued_on"),
            ("period.end", self.period.start <= self.period.end, "period.start"),
            (
                "implementation_plan_due",
                self.issued_on <= self.implementation_plan_due,
                "issued_on",
            ),
            ("self_assessment_due", self.period.start <= self.self_assessment_due, "period.start"),
            (
                "reports.grassroots_due",
                self.period.end <= self.reports.grassroots_due,
                "period.end",
            ),
            (
                "reports.synthesis_due",
                self.reports.grassroots_due <= self.reports.synthesis_due,
                "reports.grassroots_due",
            ),
        ]
        wrong = [f"{key} must not be before {after}" for key, ok, after in checks if not ok]
        if self.new_members_until is not None:
            cut_off = self.new_members_until
            if cut_off < self.issued_on:
                wrong.append("new_members_until must not be before issued_on")
            elif cut_off > self.period.end:
                wrong.append("new_members_until must not be after period.end")
        if wrong:
            raise ValueError("; ".join(wrong))
        return self


def read_plan(path: Path) -> PlanFile:
    """Read and validate a plan file (YAML, read safely, at most the settings' size);
    InputError names every problem by its key."""
    return read_yaml(path, PlanFile, "plan", context={"plan_folder": path.parent})
