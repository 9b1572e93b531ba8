"""The dated changes of the organisation, as a reader asks for them: a unit's history of parent,
kind, name and status (`unit_change`), each with the day it holds from and who made it; and
the one query of a member's or unit's kept changes."""

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.errors import NotFound
from models.members import MemberChange
from models.units import Unit, UnitChange


class ChangeView(BaseModel):
    """One dated change: which field, from what to what, from which day, by whom."""

    model_config = ConfigDict(populate_by_name=True)

    on: dt.date
    field: str
    from_: str = Field(alias="from")
    to: str
    actor: str


class UnitHistoryView(BaseModel):
    """A unit as it stands and its changes in the order they hold."""

    unit: str
    name: str
    kind: str
    dissolved_on: dt.date | None
    changes: list[ChangeView]


Changed = tuple[dt.date, str, str, str, str]


def dated_changes(
    session: Session, table: type[MemberChange] | type[UnitChange], owner_id: int
) -> list[Changed]:
    """The kept changes of one member (`MemberChange`) or unit (`UnitChange`), oldest first:
    (the day each holds from, field, old, new, who made it)."""
    owner = table.member_id if table is MemberChange else table.unit_id  # type: ignore[union-attr]
    query = (
        select(table.changed_on, table.field, table.old, table.new, table.actor)
        .where(owner == owner_id)
        .order_by(table.changed_on, table.id)
    )
    return [(on, field, old, new, actor) for on, field, old, new, actor in session.execute(query)]


def unit_history(session: Session, code: str) -> UnitHistoryView:
    """Unit `code`'s changes of parent, kind, name and status, oldest first."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"no unit '{code}'")
    changes = [
        ChangeView(on=on, field=field, from_=old, to=new, actor=actor)
        for on, field, old, new, actor in dated_changes(session, UnitChange, unit.id)
    ]
    return UnitHistoryView(
        unit=unit.code,
        name=unit.name,
        kind=unit.kind,
        dissolved_on=unit.dissolved_on,
        changes=changes,
    )
