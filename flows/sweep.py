"""The deadline sweep: judge every obligation of a part of the tree at the run's date, and
climb the escalation ladder, each step an audited set-based transition."""

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from models.obligations import Obligation
from models.units import Unit
from states.conditions import TOP_LEVEL
from states.engine import FireContext, fire_many
from states.obligation import OBLIGATION


def in_subtree(path: str, *, subtree: bool = True) -> ColumnElement[bool]:
    """Obligations of units in the subtree at `path` (or of that unit alone)."""
    units = Unit.path.startswith(path) if subtree else Unit.path == path
    return Obligation.unit_id.in_(select(Unit.id).where(units))


def sweep(
    session: Session, campaign_id: int, path: str, ctx: FireContext, *, subtree: bool = True
) -> int:
    """Move every obligation under `path` as far as the run's date takes it; returns moves.

    Done in time → met; late evidence of a duty first judged overdue → met_late (or back to met
    when its date shows it was in time); no evidence → reminded, overdue, escalated level by
    level, each step audited in order."""
    scope = and_(Obligation.campaign_id == campaign_id, in_subtree(path, subtree=subtree))
    unevidenced = and_(scope, Obligation.evidence_on.is_(None))
    moved = fire_many(session, OBLIGATION, "meet", ctx=ctx, where=scope)
    moved += fire_many(session, OBLIGATION, "confirm_in_time", ctx=ctx, where=scope)
    moved += fire_many(session, OBLIGATION, "remind", ctx=ctx, where=unevidenced)
    moved += fire_many(session, OBLIGATION, "lapse", ctx=ctx, where=scope)
    for _ in range(TOP_LEVEL):
        moved += fire_many(session, OBLIGATION, "escalate", ctx=ctx, where=unevidenced)
    moved += fire_many(session, OBLIGATION, "meet_late", ctx=ctx, where=scope)
    return moved
