"""Named business rules of the machines, each with its Python twin (fired on one entity) and its
SQL twin (compiled into a set-based UPDATE). One registry: a rule missing its twin is refused
when a lifecycle is built, never run wrongly."""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Table, and_, or_

# The ladder's top: level 1 goes to the superior committee, level 2 to the campaign's owner.
TOP_LEVEL = 2


@dataclass(frozen=True)
class Cutoffs:
    """The ladder at one date, as thresholds on the due date: an obligation due on or before
    `remind_due_by` has reached its reminder; one due before `past_due_before` is past due; one
    at level L due on or before `escalate_due_by[L]` has reached level L + 1."""

    remind_due_by: dt.date
    past_due_before: dt.date
    escalate_due_by: tuple[dt.date, ...]


@dataclass(frozen=True)
class FireContext:
    """Everything a transition needs besides the entity: who, at which logical date, why,
    and the plan's ladder parameters (its cutoffs at `as_of`; in calendar days when None), and
    the audit chain its events are appended to ("" = the main chain; a partition's work uses
    its own, so independent subtrees never wait on one head row)."""

    actor: str
    as_of: dt.date
    campaign_id: int | None = None
    reason: str | None = None
    payload: Mapping[str, object] | None = None
    remind_days_before: int = 7
    step_days: int = 7
    cutoffs: Cutoffs | None = None
    chain: str = ""

    @property
    def ladder(self) -> Cutoffs:
        """The cutoffs the ladder's rules compare due dates with."""
        return self.cutoffs or calendar_cutoffs(self.as_of, self.remind_days_before, self.step_days)


class WorkingDays(Protocol):
    """What the ladder needs of a working calendar (models.calendar.WorkingCalendar)."""

    def next_working_day(self, day: dt.date) -> dt.date: ...
    def previous_working_day(self, day: dt.date) -> dt.date: ...
    def add_working_days(self, day: dt.date, n: int) -> dt.date: ...


def calendar_cutoffs(as_of: dt.date, remind_days_before: int, step_days: int) -> Cutoffs:
    """The ladder in calendar days: reminded `remind_days_before` days before the due date,
    overdue the day after it, level L `step_days * L` days after it."""
    return Cutoffs(
        remind_due_by=as_of + _days(remind_days_before),
        past_due_before=as_of,
        escalate_due_by=tuple(as_of - _days(step_days * (level + 1)) for level in range(TOP_LEVEL)),
    )


@dataclass(frozen=True)
class StepDates:
    """The dates an obligation due on a day reaches each step of the ladder, if nothing is done:
    the reminder, overdue, then each escalation level (1, 2)."""

    reminded: dt.date
    overdue: dt.date
    escalated: tuple[dt.date, ...]


def step_dates(
    due: dt.date, remind_days_before: int, step_days: int, calendar: WorkingDays | None = None
) -> StepDates:
    """When the ladder's rules first hold for `due`. In calendar days: `remind_days_before` days
    before it, the day after it, level L `step_days * L` days after it. On `calendar`'s working
    days: the working day `remind_days_before` working days before it (on or before), the first
    working day after it, level L `step_days * L` working days after the overdue day."""
    if calendar is None:
        return StepDates(
            reminded=due - _days(remind_days_before),
            overdue=due + _days(1),
            escalated=tuple(due + _days(step_days * level) for level in range(1, TOP_LEVEL + 1)),
        )
    overdue = calendar.add_working_days(due, 1)
    return StepDates(
        reminded=calendar.previous_working_day(calendar.add_working_days(due, -remind_days_before)),
        overdue=overdue,
        escalated=tuple(
            calendar.add_working_days(overdue, step_days * level)
            for level in range(1, TOP_LEVEL + 1)
        ),
    )


def working_cutoffs(
    calendar: WorkingDays, as_of: dt.date, remind_days_before: int, step_days: int
) -> Cutoffs:
    """The ladder on `calendar`'s working days (see `step_dates`): for each step, the latest due
    date that has reached it at `as_of`."""

    def steps(due: dt.date) -> StepDates:
        return step_dates(due, remind_days_before, step_days, calendar)

    def escalated(level: int) -> Callable[[dt.date], dt.date]:
        return lambda due: steps(due).escalated[level]

    return Cutoffs(
        remind_due_by=last_due(lambda due: steps(due).reminded, as_of),
        past_due_before=last_due(lambda due: steps(due).overdue, as_of) + _days(1),
        escalate_due_by=tuple(last_due(escalated(level), as_of) for level in range(TOP_LEVEL)),
    )


def last_due(threshold: Callable[[dt.date], dt.date], as_of: dt.date) -> dt.date:
    """The latest due date whose `threshold` (a non-decreasing function of the due date) is on or
    before `as_of`: bracketed by doubling steps around `as_of`, then bisected."""
    reached = lambda due: threshold(due) <= as_of  # noqa: E731
    low, high, step = as_of, as_of, 1
    if reached(as_of):
        while reached(high := as_of + _days(step)):
            low, step = high, step * 2
    else:
        while not reached(low := as_of - _days(step)):
            high, step = low, step * 2
    while (high - low).days > 1:  # reached(low), not reached(high)
        middle = low + _days((high - low).days // 2)
        low, high = (middle, high) if reached(middle) else (low, middle)
    return low


def ladder_context(
    *,
    actor: str,
    as_of: dt.date,
    campaign_id: int | None,
    remind_days_before: int,
    step_days: int,
    calendar: WorkingDays | None,
    chain: str = "",
) -> FireContext:
    """A run's context at `as_of`, with the ladder's cutoffs counted on `calendar`'s working
    days, or in calendar days when it is None; computed once, used by every rule of the run.
    Its events go to audit chain `chain` ("" = the main chain)."""
    cutoffs = (
        calendar_cutoffs(as_of, remind_days_before, step_days)
        if calendar is None
        else working_cutoffs(calendar, as_of, remind_days_before, step_days)
    )
    return FireContext(
        actor=actor,
        as_of=as_of,
        campaign_id=campaign_id,
        remind_days_before=remind_days_before,
        step_days=step_days,
        cutoffs=cutoffs,
        chain=chain,
    )


@dataclass(frozen=True)
class Rule:
    """A guard: true when the transition may happen."""

    name: str
    python: Callable[[Any, FireContext], bool]
    sql: Callable[[Table, FireContext], ColumnElement[bool]]


@dataclass(frozen=True)
class Effect:
    """A side effect of a transition on other columns than the state."""

    name: str
    python: Callable[[Any], dict[str, Any]]
    sql: Callable[[Table], dict[str, Any]]


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in [
        Rule(
            "reminder_window_reached",
            lambda e, c: e.due <= c.ladder.remind_due_by,
            lambda t, c: t.c.due <= c.ladder.remind_due_by,
        ),
        Rule(
            "past_due",
            lambda e, c: e.due < c.ladder.past_due_before,
            lambda t, c: t.c.due < c.ladder.past_due_before,
        ),
        Rule(
            "escalation_step_reached",
            lambda e, c: (
                e.escalation_level < TOP_LEVEL
                and e.due <= c.ladder.escalate_due_by[e.escalation_level]
            ),
            lambda t, c: or_(
                *(
                    and_(t.c.escalation_level == level, t.c.due <= due_by)
                    for level, due_by in enumerate(c.ladder.escalate_due_by)
                )
            ),
        ),
        Rule(
            "evidence_in_time",
            lambda e, c: e.evidence_on is not None and e.evidence_on <= e.due,
            lambda t, c: and_(t.c.evidence_on.is_not(None), t.c.evidence_on <= t.c.due),
        ),
        Rule(
            "evidence_late",
            lambda e, c: e.evidence_on is not None and e.evidence_on > e.due,
            lambda t, c: and_(t.c.evidence_on.is_not(None), t.c.evidence_on > t.c.due),
        ),
    ]
}

EFFECTS: dict[str, Effect] = {
    effect.name: effect
    for effect in [
        Effect(
            "raise_escalation_level",
            lambda e: {"escalation_level": e.escalation_level + 1},
            lambda t: {"escalation_level": t.c.escalation_level + 1},
        ),
    ]
}
