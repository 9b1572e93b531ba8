"""The ladder on working days: its two executions agree, and its steps wait for working days."""

import contextlib
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from models.calendar import load_calendar
from models.db import transaction
from models.errors import TransitionRefused
from models.obligations import Obligation
from states.conditions import FireContext, ladder_context
from states.engine import fire, fire_many
from states.obligation import OBLIGATION
from tests.states.test_engine import EXAMPLES, OBLIGATIONS, _outcome, _world

DUE = dt.date(2023, 4, 28)  # a Friday before 29/04–03/05/2023, five days off
AROUND = st.integers(min_value=-20, max_value=40).map(lambda n: DUE + dt.timedelta(days=n))


def _working(as_of: dt.date, remind: int = 7, step: int = 7) -> FireContext:
    return ladder_context(
        actor="system",
        as_of=as_of,
        campaign_id=None,
        remind_days_before=remind,
        step_days=step,
        calendar=load_calendar(),
    )


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=OBLIGATIONS.map(
        lambda rows: [{**r, "due": r["due"] - dt.timedelta(days=21)} for r in rows]
    ),
    trigger=st.sampled_from(OBLIGATION.triggers),
    as_of=AROUND,
    ladder=st.tuples(st.integers(0, 10), st.integers(1, 10)),
)
def test_per_entity_and_set_based_agree_on_working_days(
    engine: Engine,
    rows: list[dict[str, Any]],
    trigger: str,
    as_of: dt.date,
    ladder: tuple[int, int],
) -> None:
    example = next(EXAMPLES)
    one, ids = _world(engine, rows, f"w-one-{example}")
    many, _ = _world(engine, rows, f"w-many-{example}")
    ctx = _working(as_of, *ladder)
    with transaction(engine) as session:
        for entity in ids:
            with contextlib.suppress(TransitionRefused):
                fire(session, OBLIGATION, entity, trigger, ctx=ctx)
        fire_many(session, OBLIGATION, trigger, ctx=ctx, where=Obligation.campaign_id == many)
    assert _outcome(engine, one) == _outcome(engine, many)


def test_the_steps_wait_for_working_days(engine: Engine) -> None:
    """Due Friday 28/04/2023: not overdue through 29/04–03/05 (calendar days would lapse it on
    29/04), overdue on Thursday 04/05; level 1 seven working days later, on 15/05."""
    _world(engine, [{"state": "reminded", "due": DUE, "escalation_level": 0}], "steps")
    moved = []
    with transaction(engine) as session:
        for day, trigger in [
            (dt.date(2023, 4, 29), "lapse"),
            (dt.date(2023, 5, 3), "lapse"),
            (dt.date(2023, 5, 4), "lapse"),
            (dt.date(2023, 5, 14), "escalate"),
            (dt.date(2023, 5, 15), "escalate"),
        ]:
            moved.append(fire_many(session, OBLIGATION, trigger, ctx=_working(day)))
    assert moved == [0, 0, 1, 0, 1]
