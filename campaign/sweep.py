"""The deadline sweep: judge every obligation of a part of the tree at the run's date, and
climb the escalation ladder, each step an audited set-based transition."""

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Integer, and_, any_, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from models.campaigns import Campaign
from models.obligations import Obligation
from models.units import Unit, UnitKind, units_under
from states.conditions import TOP_LEVEL
from states.engine import FireContext, fire_many
from states.obligation import OBLIGATION


def in_subtree(
    session: Session, paths: Sequence[str], *, subtree: bool = True
) -> ColumnElement[bool]:
    """Obligations of units in the subtrees at `paths` (or of those units alone). On
    PostgreSQL by the units' ids, read once and bound as one array, which the planner probes
    the (campaign, state, unit) index with: asked as `IN (SELECT … FROM unit …)`, each of a
    scope's statements read every obligation of its state in the campaign (at a million
    members, 12 of the 15 s of a run that changes nothing). SQLite's planner probes by the
    subquery's ids itself."""
    dialect = session.get_bind().dialect.name
    units = select(Unit.id).where(units_under(paths, subtree=subtree, dialect=dialect))
    if dialect != "postgresql":
        return Obligation.unit_id.in_(units)
    ids = list(session.scalars(units))
    return Obligation.unit_id == any_(literal(ids, ARRAY(Integer)))


def chunks_of_units(sizes: Sequence[tuple[str, int]], limit: int) -> list[list[str]]:
    """Group subtrees (path, units in it), in order, into chunks of at most `limit` units; a
    subtree larger than `limit` is a chunk of its own."""
    chunks: list[list[str]] = []
    held = 0
    for path, units in sizes:
        if not chunks or held + units > limit:
            chunks.append([])
            held = 0
        chunks[-1].append(path)
        held += units
    return chunks


# Units a deadline-sweep task judges, about: districts are grouped into tasks of this size (the
# generated province of 200,000 members in 8,890 units and 10 districts: 4 tasks instead of 10;
# each task costs Prefect 25-60 ms, and the sweep a dozen statements per scope).
SWEEP_UNITS = 3_000


def sweep_chunks(session: Session, campaign: Campaign) -> tuple[str, list[list[str]]]:
    """The owner's path, and the chunks of district paths the sweep is split by (a committee
    below a province is one chunk of its own path)."""
    owner = session.get_one(Unit, campaign.owner_id)
    if owner.kind not in (UnitKind.central.value, UnitKind.province.value):
        return owner.path, [[owner.path]]
    return owner.path, child_chunks(session, owner)


def child_chunks(session: Session, owner: Unit) -> list[list[str]]:
    """The paths of the owner's children, in order, grouped into chunks of about `SWEEP_UNITS`
    units (a child larger than that is a chunk of its own)."""
    children = list(
        session.scalars(select(Unit.path).where(Unit.parent_id == owner.id).order_by(Unit.path))
    )
    top = len(owner.path)
    units = Counter(
        path[: path.index("/", top) + 1]  # the child's path: the owner's and one code more
        for path in session.scalars(
            select(Unit.path).where(Unit.path.startswith(owner.path, autoescape=True))
        )
        if path != owner.path
    )
    return chunks_of_units([(c, units[c]) for c in children], SWEEP_UNITS)


def sweep(
    session: Session,
    campaign_id: int,
    paths: Sequence[str],
    ctx: FireContext,
    *,
    subtree: bool = True,
) -> int:
    """Move every obligation under `paths` as far as the run's date takes it; returns moves.

    Done in time → met; late evidence of a duty first judged overdue → met_late (or back to met
    when its date shows it was in time); no evidence → reminded, overdue, escalated level by
    level, each step audited in order."""
    scope = and_(Obligation.campaign_id == campaign_id, in_subtree(session, paths, subtree=subtree))
    unevidenced = and_(scope, Obligation.evidence_on.is_(None))
    moved = fire_many(session, OBLIGATION, "meet", ctx=ctx, where=scope)
    moved += fire_many(session, OBLIGATION, "confirm_in_time", ctx=ctx, where=scope)
    moved += fire_many(session, OBLIGATION, "remind", ctx=ctx, where=unevidenced)
    moved += fire_many(session, OBLIGATION, "lapse", ctx=ctx, where=scope)
    for _ in range(TOP_LEVEL):
        moved += fire_many(session, OBLIGATION, "escalate", ctx=ctx, where=unevidenced)
    moved += fire_many(session, OBLIGATION, "meet_late", ctx=ctx, where=scope)
    return moved
