"""The dated changes of the organisation, as a reader asks for them: a unit's history of parent,
kind, name and status (`unit_change`), each with the day it holds from and who made it."""

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.errors import NotFound
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


def unit_history(session: Session, code: str) -> UnitHistoryView:
    """Unit `code`'s changes of parent, kind, name and status, oldest first."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"no unit '{code}'")
    rows = session.execute(
        select(
            UnitChange.changed_on,
            UnitChange.field,
            UnitChange.old,
            UnitChange.new,
            UnitChange.actor,
        )
        .where(UnitChange.unit_id == unit.id)
        .order_by(UnitChange.changed_on, UnitChange.id)
    )
    changes = [
        ChangeView(on=on, field=field, from_=old, to=new, actor=actor)
        for on, field, old, new, actor in rows
    ]
    return UnitHistoryView(
        unit=unit.code,
        name=unit.name,
        kind=unit.kind,
        dissolved_on=unit.dissolved_on,
        changes=changes,
    )
