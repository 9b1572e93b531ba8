"""A part of the campaign's tree, for a run split by partitions (`campaign.partition`): the
subtrees at some paths, or every unit outside them (the owner's own pass); None is the whole
campaign. What each step of a run takes in or judges is filtered by it, by the units' paths in
byte order (`models.units.units_under`), never by a LIKE on a code."""

from collections.abc import Sequence

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from models.facts import Fact
from models.obligations import Obligation
from models.units import Unit, path_ranges, units_under


class Outside(tuple[str, ...]):
    """The paths of subtrees, meaning every unit in none of them: what a partitioned run's owner
    pass takes in (the owner itself, and any unit outside its tree) once its partitions took
    theirs. Passed wherever a `within` of subtree paths is."""


Within = Sequence[str] | None  # paths of subtrees (or an `Outside`); None: the whole campaign


def dialect(session: Session) -> str:
    """The session's database, as `units_under` is told it."""
    return session.get_bind().dialect.name


def units_within(within: Within, dialect: str) -> ColumnElement[bool] | None:
    """Units in the subtrees at `within` (outside them all when it is an `Outside`); None for
    no filter (the whole campaign)."""
    if within is None:
        return None
    inside = units_under(list(within), dialect=dialect) if within else false()
    return ~inside if isinstance(within, Outside) else inside


def facts_within(session: Session, within: Within) -> tuple[ColumnElement[bool], ...]:
    """The facts a part of the tree takes in: those lying in it (`Fact.path`: a member's at the
    member's unit, so every fact of one member is applied in one part, round by round; a unit's
    own at that unit); as a filter to add (none for the whole). One range of the pending facts'
    path index per subtree: a part reads its own pending facts, not every part's."""
    if within is None:
        return ()
    inside = path_ranges(Fact.path, list(within)) if within else false()
    return (~inside if isinstance(within, Outside) else inside,)


def obligations_within(session: Session, within: Within) -> tuple[ColumnElement[bool], ...]:
    """The obligations a part of the tree judges: those of its units; as a filter to add (none
    for the whole)."""
    units = units_within(within, dialect(session))
    return () if units is None else (Obligation.unit_id.in_(select(Unit.id).where(units)),)


def holders_within(session: Session, within: Within) -> tuple[ColumnElement[bool], ...]:
    """The units whose sessions can reach the obligations `within`: those of its subtrees
    (sessions count up the tree only); any unit for the owner's pass, or the whole."""
    units = None if isinstance(within, Outside) else units_within(within, dialect(session))
    return () if units is None else (units,)
