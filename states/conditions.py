"""Named business rules of the machines, each with its Python twin (fired on one entity) and its
SQL twin (compiled into a set-based UPDATE). One registry: a rule missing its twin is refused
when a lifecycle is built, never run wrongly."""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_

# The ladder's top: level 1 goes to the superior committee, level 2 to the campaign's owner.
TOP_LEVEL = 2


@dataclass(frozen=True)
class FireContext:
    """Everything a transition needs besides the entity: who, at which logical date, why,
    and the plan's ladder parameters."""

    actor: str
    as_of: dt.date
    campaign_id: int | None = None
    reason: str | None = None
    payload: Mapping[str, object] | None = None
    remind_days_before: int = 7
    step_days: int = 7


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
            lambda e, c: c.as_of >= e.due - _days(c.remind_days_before),
            lambda t, c: t.c.due <= c.as_of + _days(c.remind_days_before),
        ),
        Rule("past_due", lambda e, c: c.as_of > e.due, lambda t, c: t.c.due < c.as_of),
        Rule(
            "escalation_step_reached",
            lambda e, c: (
                e.escalation_level < TOP_LEVEL
                and c.as_of >= e.due + _days(c.step_days * (e.escalation_level + 1))
            ),
            lambda t, c: or_(
                *(
                    and_(
                        t.c.escalation_level == level,
                        t.c.due <= c.as_of - _days(c.step_days * (level + 1)),
                    )
                    for level in range(TOP_LEVEL)
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
