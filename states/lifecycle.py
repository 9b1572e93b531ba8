"""A lifecycle: states, a transition table, the table its entities live in, and the one
module-level `transitions.Machine` built from them that serves every entity unbound."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import Table
from transitions import EventData, Machine

from states.conditions import EFFECTS, RULES, FireContext

# transitions logs every callback at INFO, which triples the cost of a transition.
logging.getLogger("transitions").setLevel(logging.WARNING)


class LifecycleError(Exception):
    """A lifecycle definition that cannot be executed both ways (a programming error)."""


@dataclass(frozen=True)
class Step:
    """One row of a transition table."""

    trigger: str
    source: tuple[str, ...]
    dest: str
    conditions: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


def step(
    trigger: str,
    source: str | Iterable[str],
    dest: str,
    *,
    conditions: Iterable[str] = (),
    after: Iterable[str] = (),
) -> Step:
    """A transition: `trigger` moves an entity from any of `source` to `dest`."""
    sources = (source,) if isinstance(source, str) else tuple(source)
    return Step(trigger, sources, dest, tuple(conditions), tuple(after))


@dataclass(frozen=True)
class Lifecycle:
    """A state machine defined once, executed per entity or set-based."""

    name: str
    states: type[Enum]
    initial: str
    steps: tuple[Step, ...]
    table: Table
    finals: frozenset[str]
    # Which columns of the entity feed the audit event's campaign, unit and member.
    audit_columns: dict[str, str]
    machine: Machine = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check()
        object.__setattr__(self, "machine", self._build())

    @property
    def state_names(self) -> list[str]:
        """Every state, in definition order."""
        return [s.value for s in self.states]

    @property
    def triggers(self) -> list[str]:
        """Every trigger, in definition order."""
        return list(dict.fromkeys(s.trigger for s in self.steps))

    def is_final(self, state: str) -> bool:
        """Whether nothing moves an entity out of `state`."""
        return state in self.finals

    def steps_of(self, trigger: str) -> list[Step]:
        """The transitions a trigger fires."""
        return [s for s in self.steps if s.trigger == trigger]

    def _check(self) -> None:
        names = set(self.state_names)
        for s in self.steps:
            unknown = (set(s.source) | {s.dest}) - names
            missing = [c for c in s.conditions if c not in RULES]
            missing += [a for a in s.after if a not in EFFECTS]
            if unknown or missing:
                raise LifecycleError(
                    f"{self.name}.{s.trigger}: unknown states {sorted(unknown)} or rules "
                    f"without a Python and SQL twin {missing}"
                )
        for trigger in self.triggers:
            sources = [src for s in self.steps_of(trigger) for src in s.source]
            if len(sources) != len(set(sources)):
                # The set-based path decides the destination by the source state alone.
                raise LifecycleError(f"{self.name}.{trigger}: a source state appears twice")

    def _build(self) -> Machine:
        return Machine(
            model=None,
            states=self.state_names,
            initial=self.initial,
            transitions=[
                {
                    "trigger": s.trigger,
                    "source": list(s.source),
                    "dest": s.dest,
                    "conditions": [_guard(name) for name in s.conditions],
                    "after": [_effect(name) for name in s.after],
                }
                for s in self.steps
            ],
            auto_transitions=False,
            model_attribute="state",
            send_event=True,
        )


def _guard(name: str) -> Any:
    rule = RULES[name]

    def check(event: EventData) -> bool:
        context: FireContext = event.kwargs["ctx"]
        return bool(rule.python(event.model, context))

    check.__name__ = name
    return check


def _effect(name: str) -> Any:
    effect = EFFECTS[name]

    def apply(event: EventData) -> None:
        for column, value in effect.python(event.model).items():
            setattr(event.model, column, value)

    apply.__name__ = name
    return apply
