"""The transition engine: one definition, two executions.

`fire` moves one entity through its lifecycle's machine; `fire_many` moves a whole set in SQL
compiled from the same transition table and rule twins. Both write the new state only where
the row still holds the old one, and append the audit events in the caller's transaction."""

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, literal, select, update
from sqlalchemy.orm import Session
from transitions import MachineError

from models.errors import ConcurrentChange, TransitionRefused
from states.audit_chain import (
    Entity,
    Moves,
    append_events,
    append_moves,
    audit_event,
    canonical_payload,
)
from states.conditions import EFFECTS, RULES, FireContext
from states.lifecycle import Lifecycle, LifecycleError, Transition

__all__ = ["FireContext", "fire", "fire_many", "transition_event"]


class _Entity:
    """A plain stand-in for a row, which the machine moves (no ORM object per row)."""

    id: int
    state: str

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def transition_event(
    lifecycle: Lifecycle,
    row: Mapping[Any, Any],
    trigger: str,
    old: str,
    new: str,
    ctx: FireContext,
) -> dict[str, Any]:
    """The audit event of one entity's transition, to append: its campaign, unit and member
    read from `row` by the lifecycle's audit columns."""
    columns = lifecycle.audit_columns
    return audit_event(
        at=ctx.as_of,
        actor=ctx.actor,
        about=Entity(
            lifecycle.name,
            row["id"],
            row[columns["campaign_id"]] if "campaign_id" in columns else ctx.campaign_id,
            row[columns["unit_id"]] if "unit_id" in columns else None,
            row[columns["member_id"]] if "member_id" in columns else None,
        ),
        trigger=trigger,
        from_state=old,
        to_state=new,
        reason=ctx.reason,
        payload=ctx.payload,
    )


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
    event = transition_event(lifecycle, row, trigger, old, entity.state, ctx)
    append_events(session, [event], ctx.chain)
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
            c for s in lifecycle.transitions_of(trigger) if old in s.source for c in s.conditions
        )
        raise TransitionRefused(lifecycle.name, entity.id, old, trigger, rules)


def _effect_columns(lifecycle: Lifecycle, trigger: str) -> list[str]:
    table = lifecycle.table
    return sorted(
        {
            c
            for s in lifecycle.transitions_of(trigger)
            for name in s.after
            for c in EFFECTS[name].sql(table)
        }
    )


def _rowcount(result: object) -> int:
    """Rows an UPDATE touched (a CursorResult's count, typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", -1))


def _moves(lifecycle: Lifecycle, trigger: str) -> list[tuple[Transition, str]]:
    """The (transition, source state) pairs a trigger fires, one set-based UPDATE each, in an
    order that moves every entity at most once: a source that is also a destination of the
    trigger goes first (escalated → escalated before overdue → escalated)."""
    steps = lifecycle.transitions_of(trigger)
    if not steps:
        raise TransitionRefused(lifecycle.name, "*", "any", trigger)
    dests = {s.dest for s in steps}
    moves = sorted(
        ((s, source) for s in steps for source in s.source), key=lambda m: m[1] not in dests
    )
    for index, (s, _) in enumerate(moves):
        if any(source == s.dest for later, source in moves[index + 1 :] if later is not s):
            raise LifecycleError(f"{lifecycle.name}.{trigger}: moves cannot be ordered")
    return moves


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
    many moved.

    Each (transition, source state) pair is one `UPDATE … WHERE id IN (chunk) AND state =
    source AND rules RETURNING` per chunk of ids: what the statement changed is exactly what it
    returns, so the audit events are written from it, in the same transaction, with no
    read-then-write gap."""
    table = lifecycle.table
    payload = canonical_payload(ctx.payload)
    returned = [table.c.id, *_audit_sources(lifecycle, ctx)]
    moved = 0
    for s, source in _moves(lifecycle, trigger):
        # The guard reads the row alone (its state, the rules on its columns); `where` may
        # hold subqueries (the facts' members, a subtree of units).
        guard = and_(table.c.state == source, *(RULES[c].sql(table, ctx) for c in s.conditions))
        chosen = and_(guard, where) if where is not None else guard
        values = _set_values(lifecycle, s, ctx)
        steps = _update_in_chunks(session, table, chosen, guard, values, returned, chunk_size)
        for rows in steps:
            moves = Moves(
                ctx.as_of, ctx.actor, lifecycle.name, trigger, source, s.dest, ctx.reason,
                payload, rows,
            )  # fmt: skip
            append_moves(session, moves, ctx.chain)
            moved += len(rows)
    return moved


def _update_in_chunks(
    session: Session,
    table: Table,
    chosen: ColumnElement[bool],
    guard: ColumnElement[bool],
    values: dict[str, Any],
    returned: list[ColumnElement[Any]],
    chunk_size: int,
) -> Iterator[list[tuple[Any, ...]]]:
    """Update the chosen rows `chunk_size` at a time in id order, and yield what each chunk's
    UPDATE returned, sorted by id (its events are appended before the next chunk moves)."""
    last: int | None = None
    while True:
        ids = select(table.c.id).where(chosen)
        if last is not None:
            ids = ids.where(table.c.id > last)
        # The guard (old state, rules) stays in the UPDATE's own WHERE, not only in the
        # subquery: under PostgreSQL's READ COMMITTED a row another transaction moved
        # meanwhile is re-checked against the UPDATE's WHERE, never against the subquery,
        # so without it a row could move twice. Only the guard: SQLite evaluates the
        # UPDATE's WHERE row by row, and `where`'s subqueries there made the first
        # self-assessments of a 200,000-member province take minutes instead of seconds.
        statement = (
            update(table)
            .where(table.c.id.in_(ids.order_by(table.c.id).limit(chunk_size)), guard)
            .values(**values)
            .returning(*returned)
        )
        rows = sorted(tuple(row) for row in session.execute(statement))
        if rows:
            yield rows
            last = rows[-1][0]
        if len(rows) < chunk_size:  # a short chunk is the last one
            return


def _set_values(lifecycle: Lifecycle, transition: Transition, ctx: FireContext) -> dict[str, Any]:
    """What a set-based UPDATE writes: the new state, the transition's effects, the date."""
    values: dict[str, Any] = {"state": transition.dest}
    for name in transition.after:
        values.update(EFFECTS[name].sql(lifecycle.table))
    if "since" in lifecycle.table.c:
        values["since"] = ctx.as_of
    return values


def _audit_sources(lifecycle: Lifecycle, ctx: FireContext) -> list[ColumnElement[Any]]:
    """What an UPDATE returns for each moved entity's event: its campaign, unit and member."""
    table, columns = lifecycle.table, lifecycle.audit_columns
    fallback = {"campaign_id": ctx.campaign_id, "unit_id": None, "member_id": None}
    return [
        table.c[columns[key]] if key in columns else literal(fallback[key])
        for key in ("campaign_id", "unit_id", "member_id")
    ]
