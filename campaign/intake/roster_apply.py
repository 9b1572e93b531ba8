"""Applying a checked members file, set-based over its staged rows (`roster_stage`): the
changed members' dated changes, events and new values, then the new members, their events and
the day they joined. What is read back into Python is read a page at a time."""

from collections.abc import Iterator, Sequence
from datetime import date
from itertools import groupby
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Date,
    FromClause,
    Integer,
    Select,
    Table,
    Text,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import Column as Field
from sqlalchemy.orm import Session

from campaign.intake.roster_stage import MEMBER_STAGE, changed_rows
from models.members import JOINED, Member, MemberChange
from models.staging import create_stage, drop_stage, index_stage, stage_table
from models.units import Unit, bump_roster_revision
from states.roster import (
    MEMBER,
    ROSTER_ADD,
    ROSTER_UPDATE,
    Change,
    diff_of,
    record_additions,
    record_changes,
)

# The staged rows that change a stored member: the new values, and the old ones the kept
# changes and the events name (units by code).
CHANGED = stage_table(
    "member_changed",
    Field("row_no", Integer),
    Field("day", Date),
    Field("member_id", Integer),
    Field("unit_id", Integer),
    Field("full_name", Text),
    Field("leader", Boolean),
    Field("position", Text),
    Field("status", Text),
    Field("old_status", Text),
    Field("old_unit", Text),
    Field("new_unit", Text),
    Field("old_leader", Boolean),
    rowid="row_no",
)
# The members this import added, with what their events and kept joining name.
JOINED_STAGE = stage_table(
    "member_joined",
    Field("row_no", Integer),
    Field("code", Text),
    Field("full_name", Text),
    Field("unit_id", Integer),
    Field("unit", Text),
    Field("leader", Boolean),
    Field("position", Text),
    Field("status", Text),
    Field("day", Date),
    Field("dated", Boolean),
    Field("member_id", Integer),  # once inserted
    rowid="row_no",
)
# Rows read back into Python at a time (events), whatever the file's size.
PAGE = 10_000

_S, _C, _J = MEMBER_STAGE.c, CHANGED.c, JOINED_STAGE.c
_MEMBER, _UNIT, _KEPT = (cast(Table, m.__table__) for m in (Member, Unit, MemberChange))


def apply_roster(session: Session, *, actor: str) -> tuple[int, int, int]:
    """Store the staged file (checked: every row valid); (rows, members added, changed)."""
    rows = _count(session, MEMBER_STAGE)
    first_roster = not session.scalar(select(func.count()).select_from(_MEMBER))
    changed = 0 if first_roster else _stage_changes(session)
    if changed:
        _keep_changes(session, actor)
        _audit_changes(session, actor)
        session.execute(
            update(_MEMBER)
            .where(_MEMBER.c.id == _C.member_id)
            .values(
                full_name=_C.full_name,
                unit_id=_C.unit_id,
                leader=_C.leader,
                position=_C.position,
                status=_C.status,
            )
        )
    added, joined = _insert_new(session)
    if added:
        _audit_joined(session, joined, actor)
        _keep_joined(session, joined, first_roster=first_roster, actor=actor)
    if added or changed:
        bump_roster_revision(session)
    drop_stage(session, CHANGED)
    drop_stage(session, JOINED_STAGE)
    return rows, added, changed


def _stage_changes(session: Session) -> int:
    """Stage the changed members' old and new values; how many they are."""
    old_unit = _UNIT.alias("old_unit")
    query = (
        changed_rows()
        .add_columns(
            _MEMBER.c.id,
            _UNIT.c.id,
            _S.full_name,
            _S.leader,
            _S.position,
            _S.status,
            _MEMBER.c.status,
            old_unit.c.code,
            _UNIT.c.code,
            _MEMBER.c.leader,
        )
        .join(old_unit, old_unit.c.id == _MEMBER.c.unit_id)
    )
    create_stage(session, CHANGED)
    names = [c.name for c in CHANGED.columns]
    session.execute(CHANGED.insert().from_select(names, query))
    count = _count(session, CHANGED)
    index_stage(session, CHANGED, "day", "row_no")
    return count


def _count(session: Session, table: FromClause) -> int:
    """The rows of a staging table (a driver's rowcount of an INSERT … SELECT may be -1)."""
    return session.scalar(select(func.count()).select_from(table)) or 0


def _yes_no(flag: Any) -> Any:
    """A leader flag as member_change keeps it."""
    return case((flag.is_(True), "yes"), else_="no")


def _keep_changes(session: Session, actor: str) -> None:
    """Keep each changed member's dated changes of status, unit and leader flag, in the file's
    order, a member's in that order."""
    parts = [
        select(_C.row_no, literal(order), _C.member_id, _C.day, literal(field), old, new).where(
            old != new
        )
        for order, (field, old, new) in enumerate(
            [
                ("status", _C.old_status, _C.status),
                ("unit", _C.old_unit, _C.new_unit),
                ("leader", _yes_no(_C.old_leader), _yes_no(_C.leader)),
            ]
        )
    ]
    kept = union_all(*parts).subquery()
    row_no, order, *values = kept.c
    query = select(*values, literal(actor)).order_by(row_no, order)
    columns = ["member_id", "changed_on", "field", "old", "new", "actor"]
    session.execute(_KEPT.insert().from_select(columns, query))


def _pages(session: Session, query: Select[Any], *keys: Any) -> Iterator[Sequence[Any]]:
    """`query`'s rows a PAGE at a time, in the order of `keys` (unique together), each page
    read after the caller is done with the one before."""
    after: tuple[Any, ...] | None = None
    while True:
        page = query.order_by(*keys).limit(PAGE)
        if after is not None:
            page = page.where(tuple_(*keys) > tuple_(*after))
        rows = session.execute(page).all()
        if not rows:
            return
        yield rows
        after = tuple(getattr(rows[-1], key.name) for key in keys)


def _audit_changes(session: Session, actor: str) -> None:
    """An event per member whose status, unit or leader flag changed (a new name or position
    moves no target), dated the day its change holds from, a day's in the file's order."""
    query = select(*_C).where(
        or_(_C.old_status != _C.status, _C.old_unit != _C.new_unit, _C.old_leader != _C.leader)
    )
    for rows in _pages(session, query, _C.day, _C.row_no):
        for day, group in groupby(rows, key=lambda r: r.day):
            changes = [
                Change(
                    r.member_id,
                    None,
                    r.unit_id,
                    r.member_id,
                    r.old_status,
                    r.status,
                    diff_of(
                        {"status": r.old_status, "unit": r.old_unit, "leader": r.old_leader},
                        {"status": r.status, "unit": r.new_unit, "leader": r.leader},
                    ),
                )
                for r in group
            ]
            record_changes(session, MEMBER, ROSTER_UPDATE, changes, at=day, actor=actor)


def _insert_new(session: Session) -> tuple[int, FromClause]:
    """Insert the members the roster does not hold yet, in the file's order; how many, and
    where their ids, units, days, statuses and leader flags are read (JOINED_STAGE's columns)."""
    if (one := _one_day(session)) is not None:
        return _insert_on_one_day(session, *one)
    query = (
        select(
            _S.row_no,
            _S.code,
            _S.full_name,
            _UNIT.c.id,
            _S.unit,
            _S.leader,
            _S.position,
            _S.status,
            _S.day,
            _S.dated,
        )
        .join(_UNIT, _UNIT.c.code == _S.unit)
        .where(~exists().where(_MEMBER.c.code == _S.code))
    )
    create_stage(session, JOINED_STAGE)
    names = [c.name for c in JOINED_STAGE.columns][:-1]
    session.execute(JOINED_STAGE.insert().from_select(names, query))
    added = _count(session, JOINED_STAGE)
    if not added:
        return 0, JOINED_STAGE
    new = select(*(_J[c] for c in _NEW)).order_by(_J.row_no)
    session.execute(_MEMBER.insert().from_select(_NEW, new))
    # Their ids looked up by code: not guessed from a range of ids.
    ids = update(JOINED_STAGE).where(_MEMBER.c.code == _J.code).values(member_id=_MEMBER.c.id)
    session.execute(ids)
    index_stage(session, JOINED_STAGE, "day", "status", "leader", "member_id")
    return added, JOINED_STAGE


_NEW = ["code", "full_name", "unit_id", "leader", "position", "status"]  # a new member's


def _one_day(session: Session) -> tuple[date, bool] | None:
    """On SQLite, the one day every staged row's change holds from, and whether the rows gave
    it, when they share them (a roster without `since`): else None."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    days = session.execute(select(_S.day, _S.dated).distinct().limit(2)).all()
    return (days[0].day, days[0].dated) if len(days) == 1 else None


def _insert_on_one_day(session: Session, day: date, dated: bool) -> tuple[int, FromClause]:
    """SQLite, the staged rows sharing one day: the new members inserted straight from the
    staged rows, in the file's order, read back as the ids above the largest stored one. SQLite
    gives each inserted row the largest id plus one (INTEGER PRIMARY KEY, no AUTOINCREMENT),
    and no other writer inserts in between (its lock is held since BEGIN IMMEDIATE)."""
    above = session.scalar(select(func.coalesce(func.max(_MEMBER.c.id), 0)))
    new = (
        select(_S.code, _S.full_name, _UNIT.c.id, _S.leader, _S.position, _S.status)
        .join(_UNIT, _UNIT.c.code == _S.unit)
        .where(~exists().where(_MEMBER.c.code == _S.code))
        .order_by(_S.row_no)
    )
    session.execute(_MEMBER.insert().from_select(_NEW, new))
    joined = (
        select(
            _MEMBER.c.id.label("member_id"),
            _MEMBER.c.unit_id,
            select(_UNIT.c.code)
            .where(_UNIT.c.id == _MEMBER.c.unit_id)
            .scalar_subquery()
            .label("unit"),
            literal(day, Date).label("day"),
            _MEMBER.c.status,
            _MEMBER.c.leader,
            literal(dated, Boolean).label("dated"),
        )
        .where(_MEMBER.c.id > above)
        .subquery("joined")
    )
    return _count(session, joined), joined


def _audit_joined(session: Session, joined: FromClause, actor: str) -> None:
    """The new members' events, set-based: appends by day, status and leader flag, in that
    order, each group's members by id."""
    j = joined.c
    groups = session.execute(select(j.day, j.status, j.leader).distinct()).all()
    for day, status, leader in sorted(tuple(g) for g in groups):
        query = select(j.member_id, j.unit_id).where(
            j.day == day, j.status == status, j.leader == leader
        )
        for rows in _pages(session, query, j.member_id):
            record_additions(
                session,
                MEMBER,
                ROSTER_ADD,
                status,
                [(m, None, u, m) for m, u in rows],
                at=day,
                actor=actor,
                shared={"leader": leader},
            )


def _keep_joined(session: Session, joined: FromClause, *, first_roster: bool, actor: str) -> None:
    """Keep the day each new member joined (`JOINED`, to the unit joined), what a plan's cut-off
    for new members and the roster on a past day are read from. The first roster imported is
    the organisation as it stands, not members joining: its rows are kept only with a `since`."""
    j = joined.c
    query = select(
        j.member_id, j.day, literal(JOINED), literal(""), j.unit, literal(actor)
    ).order_by(j.member_id)
    if first_roster:
        query = query.where(j.dated.is_(True))
    columns = ["member_id", "changed_on", "field", "old", "new", "actor"]
    session.execute(_KEPT.insert().from_select(columns, query))
