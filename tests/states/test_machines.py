"""Every (state, trigger) pair of every machine, fired on a real row through `fire`."""

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from models.db import transaction
from models.errors import TransitionRefused
from states.engine import FireContext, fire
from states.lifecycle import Lifecycle, LifecycleError, transition
from states.lifecycles import ALL
from tests import factories

CTX = FireContext(actor="tester", as_of=dt.date(2023, 6, 10), reason="test")
# Rows that satisfy every guard at CTX.as_of, so each allowed pair really moves.
GUARDS_HOLD = {
    "due": dt.date(2023, 5, 19),
    "evidence_on": dt.date(2023, 5, 18),
    "escalation_level": 0,
}
LATE_EVIDENCE = {"meet_late": {"evidence_on": dt.date(2023, 5, 25)}}


def _pairs() -> list[tuple[Lifecycle, str, str, str | None]]:
    pairs = []
    for lifecycle in ALL:
        for state in lifecycle.state_names:
            for trigger in lifecycle.triggers:
                dest = next(
                    (s.dest for s in lifecycle.transitions_of(trigger) if state in s.source), None
                )
                pairs.append((lifecycle, state, trigger, dest))
    return pairs


def _entity(session: Any, lifecycle: Lifecycle, state: str, trigger: str) -> int:
    town, _, branch = factories.town(session)
    campaign = factories.campaign(session, town)
    if lifecycle.name == "campaign":
        session.execute(lifecycle.table.update().values(state=state))
        return campaign
    member = factories.members(session, branch, 1)[0]
    row: dict[str, Any] = {
        "campaign_id": campaign,
        "unit_id": branch,
        "member_id": member,
        "state": state,
    }
    if lifecycle.name == "obligation":
        row.update(
            kind="self_assess",
            key="k",
            window="",
            **{**GUARDS_HOLD, **LATE_EVIDENCE.get(trigger, {})},
        )
    if lifecycle.name == "assessment":
        row["leader"] = False
    session.execute(insert(lifecycle.table).values(**row))
    return int(session.scalar(select(lifecycle.table.c.id)))


@pytest.mark.parametrize(
    ("lifecycle", "state", "trigger", "dest"),
    _pairs(),
    ids=lambda v: v.name if isinstance(v, Lifecycle) else str(v),
)
def test_each_pair_lands_where_the_table_says_or_is_refused(
    engine: Engine, lifecycle: Lifecycle, state: str, trigger: str, dest: str | None
) -> None:
    with transaction(engine) as session:
        entity = _entity(session, lifecycle, state, trigger)
        if dest is None:
            with pytest.raises(TransitionRefused) as refused:
                fire(session, lifecycle, entity, trigger, ctx=CTX)
            assert f"is '{state}'" in str(refused.value) and f"'{trigger}'" in str(refused.value)
            return
        assert fire(session, lifecycle, entity, trigger, ctx=CTX) == dest
        stored = session.scalar(
            select(lifecycle.table.c.state).where(lifecycle.table.c.id == entity)
        )
        assert stored == dest


def test_a_guard_that_does_not_hold_refuses_with_the_rule_named(engine: Engine) -> None:
    with transaction(engine) as session:
        town, _, branch = factories.town(session)
        campaign = factories.campaign(session, town)
        [ob] = factories.obligations(session, campaign, branch, [{"due": dt.date(2023, 7, 1)}])
        from states.obligation import OBLIGATION

        with pytest.raises(TransitionRefused, match="rule not met: past_due"):
            fire(session, OBLIGATION, ob, "lapse", ctx=CTX)


def test_a_rule_without_twins_is_refused_at_definition() -> None:
    from states.obligation import OBLIGATION, ObligationState

    with pytest.raises(LifecycleError, match="without a Python and SQL twin"):
        Lifecycle(
            "broken",
            ObligationState,
            "open",
            (transition("remind", "open", "reminded", conditions=["moon_is_full"]),),
            OBLIGATION.table,
            frozenset(),
            {},
        )
