"""A reconcile split by the tree (issue 23): the children of the campaign's owner are its
partitions (the provinces of a national campaign, the districts of a province; a town's
grassroots organisations, in chunks), each reconciled on its own — the facts its units reported
taken in, its deadlines judged — in any order, in this process or another (the flow runs each
as a child flow run), its transitions audited on a chain of its own. The owner's work (deploy,
the facts and deadlines of units in no partition, notices, finish) stays in
`campaign.reconcile`.

Each step is one transaction, set-based and idempotent: a partition run again at the same date,
whole or after a crash midway, changes nothing twice. A fact is taken in by exactly one part of
the tree (`campaign.within.facts_within`); an obligation is judged by the part of its unit, from
whichever facts reach it."""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import Engine, func, literal, select, union_all
from sqlalchemy.orm import Session

from campaign import apply
from campaign.sweep import child_chunks, sweep
from campaign.within import Within, dialect
from models.campaigns import Campaign, get_campaign
from models.db import transaction
from models.facts import FactKind
from models.members import Member
from models.obligations import ObligationKind
from models.units import Unit, units_under
from states.conditions import ladder_context
from states.engine import FireContext


class Partition(NamedTuple):
    """A part of the campaign's tree reconciled on its own: a stable short name (a unit's code,
    or `chunk-3`) and the paths of the subtrees it holds. Passed to a child flow run as JSON
    (`[key, paths]`, or the two fields)."""

    key: str
    paths: list[str]


def chain_key(campaign_id: int, key: str) -> str:
    """The audit chain a partition's transitions go to."""
    return f"{campaign_id}:{key}"


@contextmanager
def campaign_session(engine: Engine, code: str) -> Iterator[tuple[Session, Campaign]]:
    """One transaction, with the campaign `code`."""
    with transaction(engine) as session:
        yield session, get_campaign(session, code)


def fire_context(campaign: Campaign, as_of: dt.date, actor: str, chain: str = "") -> FireContext:
    """The context the machines fire in for this campaign's run at `as_of`: its ladder, and the
    audit chain its events go to ("" = the campaign's main chain)."""
    ladder = campaign.plan_file.escalation
    return ladder_context(
        actor=actor,
        as_of=as_of,
        campaign_id=campaign.id,
        remind_days_before=ladder.remind_days_before,
        step_days=ladder.step_days,
        calendar=ladder.working_calendar(),
        chain=chain,
    )


def partitions(engine: Engine, code: str) -> list[Partition]:
    """The campaign's partitions: the children of its owner (the provinces of a national
    campaign, the districts of a province, a town's grassroots organisations) in chunks of
    about `campaign.sweep.SWEEP_UNITS` units, as the deadline sweep was chunked (a province of
    the nation is a chunk of its own); keyed by the child's code when a chunk holds one, else
    `chunk-1` …. Every child is in one, so the units in none are the owner itself and those
    outside its tree."""
    with campaign_session(engine, code) as (session, campaign):
        owner = session.get_one(Unit, campaign.owner_id)
        chunks = child_chunks(session, owner)
        codes = dict(
            session.execute(select(Unit.path, Unit.code).where(Unit.parent_id == owner.id)).all()
        )
    return [
        Partition(key=codes[paths[0]] if len(paths) == 1 else f"chunk-{n}", paths=paths)
        for n, paths in enumerate(chunks, 1)
    ]


def partition_sizes(engine: Engine, parts: list[Partition]) -> list[int]:
    """How many members each partition's subtrees hold, in the order of `parts`: one statement
    that reads each partition's units by their path ranges (an index range each,
    `units_under`) and the members once (a count per partition would read them per partition:
    a nation's 5.6 million members 63 times)."""
    if not parts:
        return []
    with transaction(engine) as session:
        units = union_all(
            *(
                select(literal(n).label("n"), Unit.id.label("unit_id")).where(
                    units_under(p.paths, dialect=dialect(session))
                )
                for n, p in enumerate(parts)
            )
        ).subquery()
        counts = (
            select(units.c.n, func.count(Member.id))
            .select_from(Member)
            .join(units, units.c.unit_id == Member.unit_id)
            .group_by(units.c.n)
        )
        sizes: dict[int, int] = {n: size for n, size in session.execute(counts)}
    return [int(sizes.get(n, 0)) for n in range(len(parts))]


# A step that takes in facts: in a transaction, for the campaign, its run's context and the part
# of the tree; returns how many facts it applied.
FactStep = Callable[[Session, Campaign, FireContext, Within], int]


def _plans(session: Session, campaign: Campaign, ctx: FireContext, within: Within) -> int:
    apply.stage_first_evidence(
        session, campaign, ctx.as_of, ObligationKind.issue_plan, within=within
    )
    return apply.mark_applied(session, campaign, ctx.as_of, [FactKind.plan_issued], within)


def _sessions(session: Session, campaign: Campaign, ctx: FireContext, within: Within) -> int:
    apply.stage_session_evidence(session, campaign, ctx.as_of, within=within)
    kinds = [FactKind.session_held, FactKind.activity_held]
    return apply.mark_applied(session, campaign, ctx.as_of, kinds, within)


def _reports(session: Session, campaign: Campaign, ctx: FireContext, within: Within) -> int:
    # before the facts are applied
    apply.stage_first_evidence(
        session, campaign, ctx.as_of, ObligationKind.self_assess, within=within
    )
    return apply.apply_lifecycle_facts(session, campaign, apply.ASSESSMENT_KINDS, ctx, within)


def _screenings(session: Session, campaign: Campaign, ctx: FireContext, within: Within) -> int:
    return apply.apply_lifecycle_facts(session, campaign, apply.SCREENING_KINDS, ctx, within)


def _commendations(session: Session, campaign: Campaign, ctx: FireContext, within: Within) -> int:
    return apply.apply_lifecycle_facts(session, campaign, apply.COMMENDATION_KINDS, ctx, within)


def _upward(session: Session, campaign: Campaign, ctx: FireContext, within: Within) -> int:
    apply.stage_first_evidence(
        session, campaign, ctx.as_of, ObligationKind.report_upward, within=within
    )
    return apply.mark_applied(session, campaign, ctx.as_of, [FactKind.report_submitted], within)


def run_step(
    engine: Engine,
    code: str,
    as_of: dt.date,
    actor: str,
    step: FactStep,
    within: Within = None,
    key: str = "",
) -> int:
    """Run one fact step in its own transaction, for the part of the tree `within` (None: the
    whole campaign), audited on the chain of partition `key` ("": the main chain)."""
    with campaign_session(engine, code) as (session, campaign):
        chain = chain_key(campaign.id, key) if key else ""
        return step(session, campaign, fire_context(campaign, as_of, actor, chain), within)


# The facts a reconcile takes in, in the order it takes them, by the names Prefect shows.
FACT_STEPS: dict[str, FactStep] = {
    "take-in-plans": _plans,
    "hold-branch-sessions": _sessions,
    "collect-reports": _reports,
    "screen-members": _screenings,
    "commend-exemplars": _commendations,
    "report-upward": _upward,
}


def take_in_facts(
    engine: Engine, code: str, as_of: dt.date, actor: str, within: Within = None, key: str = ""
) -> int:
    """Every fact step of `FACT_STEPS` in order, each one transaction, for the part of the tree
    `within`, audited on the chain of partition `key`; returns the facts applied."""
    return sum(
        run_step(engine, code, as_of, actor, step, within, key) for step in FACT_STEPS.values()
    )


def deadline_sweep(
    engine: Engine,
    code: str,
    as_of: dt.date,
    actor: str,
    paths: list[str],
    subtree: bool = True,
    key: str = "",
) -> int:
    """Judge every obligation of the subtrees at `paths` (or of those units alone) at the date,
    audited on the chain of partition `key` ("": the main chain); returns the moves."""
    with campaign_session(engine, code) as (session, campaign):
        chain = chain_key(campaign.id, key) if key else ""
        ctx = fire_context(campaign, as_of, actor, chain)
        return sweep(session, campaign.id, paths, ctx, subtree=subtree)


def reconcile_partition(
    engine: Engine, code: str, as_of: dt.date, actor: str, partition: Partition
) -> dict[str, int]:
    """A reconcile's work for one partition at `as_of`: the facts its units reported taken in,
    then its deadlines judged, each step one transaction on the partition's own audit chain;
    returns {"facts_applied": …, "moves": …}. Running it again changes nothing."""
    applied = take_in_facts(engine, code, as_of, actor, partition.paths, partition.key)
    moves = deadline_sweep(engine, code, as_of, actor, partition.paths, key=partition.key)
    return {"facts_applied": applied, "moves": moves}
