"""The transition engine: one definition, two executions.

`fire` moves one entity through its lifecycle's machine; `fire_many` moves a whole set in SQL
compiled from the same transition table and rule twins. Both write the new state only where
the row still holds the old one, and append the audit events in the caller's transaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, true, update
from sqlalchemy.orm import Session
from transitions import MachineError

from models.errors import ConcurrentChange, TransitionRefused
from states.audit import append_events, canonical_payload
from states.conditions import EFFECTS, RULES, FireContext
from states.lifecycle import Lifecycle, Step

__all__ = ["FireContext", "fire", "fire_many"]


class _Entity:
    """A plain stand-in for a row, which the machine moves (no ORM object per row)."""

    id: int
    state: str

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _event(
    lifecycle: Lifecycle, row: Any, trigger: str, old: str, new: str, ctx: FireContext
) -> dict[str, Any]:
    columns = lifecycle.audit_columns
    return {
        "at": ctx.as_of,
        "actor": ctx.actor,
        "entity": lifecycle.name,
        "entity_id": row["id"],
        "campaign_id": row[columns["campaign_id"]] if "campaign_id" in columns else ctx.campaign_id,
        "unit_id": row[columns["unit_id"]] if "unit_id" in columns else None,
        "member_id": row[columns["member_id"]] if "member_id" in columns else None,
        "trigger": trigger,
        "from_state": old,
        "to_state": new,
        "reason": ctx.reason,
        "payload": canonical_payload(ctx.payload),
    }


def fire(
    session: Session, lifecycle: Lifecycle, entity_id: int, trigger: str, *, ctx: FireContext
) -> str:
    """Fire `trigger` on one entity through the machine; returns its new state."""
    table = lifecycle.table
    row = session.execute(select(table).where(table.c.id == entity_id)).mappings().one_or_none()
    if row is None:
        raise TransitionRefused(lifecycle.name, entity_id, "missing", trigger)
    entity = _Entity(dict(row))
    old = row["state"]
    _run_machine(lifecycle, entity, trigger, ctx)
    values = {c: getattr(entity, c) for c in _effect_columns(lifecycle, trigger)}
    values["state"] = entity.state
    if "since" in table.c:
        values["since"] = ctx.as_of
    result = session.execute(
        update(table).where(table.c.id == entity_id, table.c.state == old).values(**values)
    )
    if _rowcount(result) != 1:
        raise ConcurrentChange(f"{lifecycle.name} {entity_id} left '{old}' while '{trigger}' ran")
    append_events(session, [_event(lifecycle, row, trigger, old, entity.state, ctx)])
    return str(entity.state)


def _run_machine(lifecycle: Lifecycle, entity: _Entity, trigger: str, ctx: FireContext) -> None:
    old = entity.state
    event = lifecycle.machine.events.get(trigger)
    if event is None:
        raise TransitionRefused(lifecycle.name, entity.id, old, trigger)
    try:
        moved = event.trigger(entity, ctx=ctx)
    except MachineError as exc:
        raise TransitionRefused(lifecycle.name, entity.id, old, trigger) from exc
    if not moved:
        rules = ", ".join(
            c for s in lifecycle.steps_of(trigger) if old in s.source for c in s.conditions
        )
        raise TransitionRefused(lifecycle.name, entity.id, old, trigger, rules)


def _effect_columns(lifecycle: Lifecycle, trigger: str) -> list[str]:
    table = lifecycle.table
    return sorted(
        {
            c
            for s in lifecycle.steps_of(trigger)
            for name in s.after
            for c in EFFECTS[name].sql(table)
        }
    )


def _rowcount(result: object) -> int:
    """Rows an UPDATE touched (a CursorResult's count, typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", -1))


@dataclass(frozen=True)
class _Compiled:
    """The SQL twin of one trigger: which rows move, where to, and with what effects."""

    predicate: ColumnElement[bool]
    state: Any
    effects: dict[str, Any]
    dest_of: dict[str, str]


def _step_predicate(lifecycle: Lifecycle, s: Step, ctx: FireContext) -> ColumnElement[bool]:
    table = lifecycle.table
    return and_(table.c.state.in_(s.source), *(RULES[c].sql(table, ctx) for c in s.conditions))


def compile_trigger(lifecycle: Lifecycle, trigger: str, ctx: FireContext) -> _Compiled:
    """Compile a trigger's transitions into one predicate, a CASE for the state and effects."""
    table, steps = lifecycle.table, lifecycle.steps_of(trigger)
    if not steps:
        raise TransitionRefused(lifecycle.name, "*", "any", trigger)
    whens = [(_step_predicate(lifecycle, s, ctx), s) for s in steps]
    state = case(*((p, s.dest) for p, s in whens), else_=table.c.state)
    effects: dict[str, Any] = {}
    for predicate, s in whens:
        for name in s.after:
            for column, expression in EFFECTS[name].sql(table).items():
                effects[column] = case((predicate, expression), else_=table.c[column])
    dest_of = {src: s.dest for s in steps for src in s.source}
    return _Compiled(or_(*(p for p, _ in whens)), state, effects, dest_of)


def fire_many(
    session: Session,
    lifecycle: Lifecycle,
    trigger: str,
    *,
    ctx: FireContext,
    where: ColumnElement[bool] | None = None,
    chunk_size: int = 100_000,
) -> int:
    """Fire `trigger` on every entity matching `where` that the machine allows; returns how
    many moved. Runs in chunks by id; each chunk is one UPDATE plus its audit events."""
    compiled = compile_trigger(lifecycle, trigger, ctx)
    table = lifecycle.table
    chosen = and_(compiled.predicate, where if where is not None else true())
    audit = [table.c[c] for c in sorted(set(lifecycle.audit_columns.values()) - {"id"})]
    moved, last = 0, None
    while True:
        query = select(table.c.id, table.c.state, *audit).where(chosen)
        if last is not None:
            query = query.where(table.c.id > last)
        rows = session.execute(query.order_by(table.c.id).limit(chunk_size)).mappings().all()
        if not rows:
            return moved
        _move_chunk(session, lifecycle, compiled, chosen, rows, trigger, ctx)
        moved, last = moved + len(rows), rows[-1]["id"]


def _move_chunk(
    session: Session,
    lifecycle: Lifecycle,
    compiled: _Compiled,
    chosen: ColumnElement[bool],
    rows: Sequence[Any],
    trigger: str,
    ctx: FireContext,
) -> None:
    table = lifecycle.table
    values: dict[str, Any] = {"state": compiled.state, **compiled.effects}
    if "since" in table.c:
        values["since"] = ctx.as_of
    span = table.c.id.between(rows[0]["id"], rows[-1]["id"])
    count = _rowcount(session.execute(update(table).where(chosen, span).values(**values)))
    if count != len(rows):
        raise ConcurrentChange(
            f"{lifecycle.name}: {len(rows)} rows chosen for '{trigger}', {count} moved"
        )
    append_events(
        session,
        (
            _event(lifecycle, row, trigger, row["state"], compiled.dest_of[row["state"]], ctx)
            for row in rows
        ),
    )
