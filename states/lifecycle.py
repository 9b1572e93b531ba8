"""A lifecycle: states, a transition table, the table its entities live in, and the one
module-level `transitions.Machine` built from them that serves every entity unbound."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Table
from transitions import EventData, Machine

from states.conditions import EFFECTS, RULES, FireContext

# transitions logs every callback at INFO, which triples the cost of a transition.
logging.getLogger("transitions").setLevel(logging.WARNING)


class LifecycleError(Exception):
    """A lifecycle definition that cannot be executed both ways (a programming error)."""


@dataclass(frozen=True)
class Transition:
    """One row of a transition table: `trigger` moves an entity from any of `source` to
    `dest` when every rule of `conditions` holds, then applies the effects of `after`."""

    trigger: str
    source: tuple[str, ...]
    dest: str
    conditions: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


def transition(
    trigger: str,
    source: str | Iterable[str],
    dest: str,
    *,
    conditions: Iterable[str] = (),
    after: Iterable[str] = (),
) -> Transition:
    """A transition: `trigger` moves an entity from any of `source` to `dest`."""
    # States are kept as plain strings: what the machine and the SQL compare the column with.
    sources = (str(source),) if isinstance(source, str) else tuple(map(str, source))
    return Transition(trigger, sources, str(dest), tuple(conditions), tuple(after))


@dataclass(frozen=True)
class Lifecycle:
    """A state machine defined once, executed per entity or set-based."""

    name: str
    states: type[StrEnum]
    initial: str
    transitions: tuple[Transition, ...]
    table: Table
    finals: frozenset[str]
    # Which columns of the entity feed the audit event's campaign, unit and member.
    audit_columns: dict[str, str]
    machine: Machine = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "initial", str(self.initial))
        object.__setattr__(self, "finals", frozenset(map(str, self.finals)))
        self._check()
        object.__setattr__(self, "machine", self._build())

    @property
    def state_names(self) -> list[str]:
        """Every state, in definition order."""
        return [str(s) for s in self.states]

    @property
    def triggers(self) -> list[str]:
        """Every trigger, in definition order."""
        return list(dict.fromkeys(t.trigger for t in self.transitions))

    def is_final(self, state: str) -> bool:
        """Whether nothing moves an entity out of `state`."""
        return state in self.finals

    def transitions_of(self, trigger: str) -> list[Transition]:
        """The transitions a trigger fires."""
        return [t for t in self.transitions if t.trigger == trigger]

    def _check(self) -> None:
        names = set(self.state_names)
        for t in self.transitions:
            unknown = (set(t.source) | {t.dest}) - names
            missing = [c for c in t.conditions if c not in RULES]
            missing += [a for a in t.after if a not in EFFECTS]
            if unknown or missing:
                raise LifecycleError(
                    f"{self.name}.{t.trigger}: unknown states {sorted(unknown)} or rules "
                    f"without a Python and SQL twin {missing}"
                )
        for trigger in self.triggers:
            sources = [src for t in self.transitions_of(trigger) for src in t.source]
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
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,
                    "conditions": [_guard(name) for name in t.conditions],
                    "after": [_effect(name) for name in t.after],
                }
                for t in self.transitions
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
