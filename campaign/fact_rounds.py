"""A run's pending facts, as the apply steps read them: those not yet applied, numbered into
rounds per entity (each member's, or unit's, first pending fact, then its second …) in a
temporary table that each round's transitions choose their entities from."""

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from models.accounts import Account
from models.db import analyze
from models.facts import Fact
from states.lifecycle import Lifecycle


def unapplied(
    campaign_id: int, as_of: dt.date, kinds: Iterable[str], *scope: ColumnElement[bool]
) -> ColumnElement[bool]:
    return and_(
        Fact.campaign_id == campaign_id,
        Fact.applied_on.is_(None),
        Fact.date <= as_of,
        Fact.kind.in_(list(kinds)),
        *scope,
    )


# A run's pending lifecycle facts, numbered per entity (its member, or its unit when no member):
# round n holds every entity's n-th fact, and each (round, kind, note) is applied set-based.
# A temporary table, filled and read by SQL inside the task's transaction and dropped at its
# end (a rollback drops it too): a day of a million facts stays in the database, not in memory.
ROUNDS = Table(
    "pending_round",
    MetaData(),
    Column("round", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("member_id", Integer),
    Column("unit_id", Integer, nullable=False),
    Column("date", Date, nullable=False),
    Column("fact_id", Integer, nullable=False),
    # The console account that recorded the fact ('' when not recorded by an account).
    Column("recorded_by", String(64), nullable=False),
    Index("ix_pending_round_group", "round", "kind", "note", "member_id", "unit_id"),
    prefixes=["TEMPORARY"],
)


def applying(facts: ColumnElement[bool], as_of: dt.date) -> Any:
    """Mark `facts` applied at `as_of`. No facts are loaded in the session, so none is
    synchronised: left to itself, SQLAlchemy would read back every row's key (RETURNING) to
    look each up in the identity map."""
    stmt = update(Fact).where(facts).values(applied_on=as_of)
    return stmt.execution_options(synchronize_session=False)


def number_rounds(
    session: Session,
    campaign_id: int,
    as_of: dt.date,
    kinds: list[str],
    *scope: ColumnElement[bool],
) -> list[tuple[int, str, str, str]]:
    """Fill the rounds table with the pending facts of `kinds`; return its groups in order."""
    entity = (Fact.member_id, case((Fact.member_id.is_(None), Fact.unit_id)))
    pending = select(
        func.row_number().over(partition_by=entity, order_by=(Fact.date, Fact.id)),
        Fact.kind,
        Fact.note,
        Fact.member_id,
        Fact.unit_id,
        Fact.date,
        Fact.id,
        account_or_none(),
    ).where(unapplied(campaign_id, as_of, kinds, *scope))
    ROUNDS.create(session.connection())
    session.execute(insert(ROUNDS).from_select(list(ROUNDS.c.keys()), pending))
    analyze(session, ROUNDS.name)  # autovacuum never sees a temporary table
    # A group's facts are one (round, kind, note) recorded by one account, or by none.
    chosen = (ROUNDS.c.round, ROUNDS.c.kind, ROUNDS.c.note, ROUNDS.c.recorded_by)
    groups = select(*chosen).distinct().order_by(*chosen)
    found = session.execute(groups)
    return [(int(n), str(kind), str(note), str(by)) for n, kind, note, by in found]


def account_or_none() -> ColumnElement[str]:
    """Who recorded a fact, when that is a console account (a login, checked at each request):
    the transitions its fact fires are that account's act, audited as its. A fact imported
    with `--actor` (free text, whatever was typed) is audited as the run's actor."""
    is_account = Fact.recorded_by.in_(select(Account.login))
    return case((is_account, Fact.recorded_by), else_=literal(""))


def in_group(group: tuple[int, str, str, str], *, members: bool) -> ColumnElement[bool]:
    """Rows of the rounds table in `group`: its members' facts, or its units' own."""
    n, kind, note, recorded_by = group
    by = ROUNDS.c.member_id.is_not(None) if members else ROUNDS.c.member_id.is_(None)
    return and_(
        ROUNDS.c.round == n,
        ROUNDS.c.kind == kind,
        ROUNDS.c.note == note,
        ROUNDS.c.recorded_by == recorded_by,
        by,
    )


def targets(
    lifecycle: Lifecycle, group: tuple[int, str, str, str]
) -> Iterator[ColumnElement[bool]]:
    """Predicates choosing the group's entities: its members', and its units' own."""
    table = lifecycle.table
    yield table.c.member_id.in_(select(ROUNDS.c.member_id).where(in_group(group, members=True)))
    by_unit = table.c.unit_id.in_(select(ROUNDS.c.unit_id).where(in_group(group, members=False)))
    yield and_(table.c.member_id.is_(None), by_unit) if "member_id" in table.c else by_unit
