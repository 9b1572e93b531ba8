"""One definition, two executions: `fire` row by row and `fire_many` give the same states and
the same audit events for every entity."""

import contextlib
import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from models.audit import AuditEvent
from models.db import transaction
from models.errors import TransitionRefused
from models.obligations import Obligation
from states.audit_chain import verify_chain
from states.engine import FireContext, fire, fire_many
from states.obligation import OBLIGATION
from tests import factories

EXAMPLES = itertools.count()
DUE = dt.date(2023, 5, 19)
DAY = st.integers(min_value=-20, max_value=30).map(lambda n: DUE + dt.timedelta(days=n))
OBLIGATIONS = st.lists(
    st.fixed_dictionaries(
        {
            "state": st.sampled_from(OBLIGATION.state_names),
            "due": DAY,
            "escalation_level": st.integers(0, 2),
            "evidence_on": st.one_of(st.none(), DAY),
        }
    ),
    min_size=1,
    max_size=25,
)


def _world(engine: Engine, rows: list[dict[str, Any]], code: str) -> tuple[int, list[int]]:
    with transaction(engine) as session:
        owner = session.scalar(select(factories.Unit.id).where(factories.Unit.code == "TOWN"))
        if owner is None:
            owner, _, _ = factories.town(session)
        campaign = factories.campaign(session, owner, code)
        ids = factories.obligations(
            session, campaign, owner, [{**row, "key": f"{code}-{i}"} for i, row in enumerate(rows)]
        )
        return campaign, ids


def _outcome(engine: Engine, campaign: int) -> tuple[list[Any], list[Any]]:
    with transaction(engine) as session:
        states = session.execute(
            select(Obligation.state, Obligation.escalation_level, Obligation.since)
            .where(Obligation.campaign_id == campaign)
            .order_by(Obligation.id)
        ).all()
        first = session.scalar(
            select(func.min(Obligation.id)).where(Obligation.campaign_id == campaign)
        )
        # Each entity's events in order (the set-based engine orders them by source state,
        # then entity; the per-entity loop by entity).
        events = session.execute(
            select(
                AuditEvent.entity_id - first,
                AuditEvent.at,
                AuditEvent.actor,
                AuditEvent.trigger,
                AuditEvent.from_state,
                AuditEvent.to_state,
                AuditEvent.reason,
                AuditEvent.payload,
            )
            .where(AuditEvent.campaign_id == campaign)
            .order_by(AuditEvent.entity_id, AuditEvent.seq)
        ).all()
        return [tuple(r) for r in states], [tuple(e) for e in events]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=OBLIGATIONS,
    trigger=st.sampled_from(OBLIGATION.triggers),
    as_of=DAY,
    chunk=st.integers(1, 7),
)
def test_per_entity_and_set_based_agree(
    engine: Engine, rows: list[dict[str, Any]], trigger: str, as_of: dt.date, chunk: int
) -> None:
    example = next(EXAMPLES)
    one, ids = _world(engine, rows, f"one-{example}")
    many, _ = _world(engine, rows, f"many-{example}")
    ctx = FireContext(actor="prop", as_of=as_of, reason="equivalence", payload={"n": 1})
    with transaction(engine) as session:
        for entity in ids:
            with contextlib.suppress(TransitionRefused):
                fire(session, OBLIGATION, entity, trigger, ctx=ctx)
        fire_many(
            session,
            OBLIGATION,
            trigger,
            ctx=ctx,
            chunk_size=chunk,
            where=Obligation.campaign_id == many,
        )
    assert _outcome(engine, one) == _outcome(engine, many)
    with transaction(engine) as session:
        last = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
        assert verify_chain(session) == (last or 0)


def test_the_ladder_takes_its_steps_in_order(engine: Engine) -> None:
    campaign, _ = _world(
        engine,
        [{"state": "open", "due": DUE, "escalation_level": 0, "evidence_on": None}],
        "ladder",
    )
    ctx = FireContext(actor="system", as_of=DUE + dt.timedelta(days=30))
    with transaction(engine) as session:
        moved = [
            fire_many(session, OBLIGATION, t, ctx=ctx)
            for t in ("remind", "lapse", "escalate", "escalate", "escalate")
        ]
    assert moved == [1, 1, 1, 1, 0], "two escalation levels, then the top of the ladder"
    states, events = _outcome(engine, campaign)
    assert states == [("escalated", 2, ctx.as_of)]
    assert [(e[3], e[4], e[5]) for e in events] == [
        ("remind", "open", "reminded"),
        ("lapse", "reminded", "overdue"),
        ("escalate", "overdue", "escalated"),
        ("escalate", "escalated", "escalated"),
    ]
