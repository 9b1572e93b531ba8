"""The end of a run binds the heads of the campaign's audit chains in a checkpoint on the main
chain; a campaign whose work is all on the main chain gets none (its trail as before)."""

import datetime as dt
import json

from sqlalchemy import Engine, select

from campaign.run_record import begin_run, finish_run
from models.audit import AuditEvent
from models.campaigns import get_campaign
from models.db import transaction
from models.runs import Run
from states.audit_chain import CHECKPOINT, append_events, chain_head, verify_chains
from tests.factories import audit_event

DAY = dt.date(2023, 5, 20)


def _checkpoints(engine: Engine) -> list[AuditEvent]:
    with transaction(engine) as session:
        query = select(AuditEvent).where(AuditEvent.entity == CHECKPOINT).order_by(AuditEvent.seq)
        return list(session.scalars(query))


def test_a_run_with_partition_chains_ends_with_a_checkpoint(town: Engine) -> None:
    with transaction(town) as session:
        campaign = get_campaign(session, "T23")
        run_id, first = begin_run(session, "T23", DAY, "tester")
    chains = {f"{campaign.id}:{key}": key for key in ("P1", "P2")}
    with transaction(town) as session:
        for n, chain in enumerate(chains):
            append_events(session, [audit_event(10 * n + i) for i in range(3)], chain)
        append_events(session, [audit_event(99)], f"{campaign.id + 1}:P1")  # not this campaign's
        assert finish_run(session, run_id, campaign, first, {}) == 7
    (bound,) = _checkpoints(town)
    with transaction(town) as session:
        heads = {}
        for chain in chains:  # each chain's last event
            last = select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.chain == chain)
            heads[chain] = list(session.execute(last.order_by(AuditEvent.seq.desc())).first())
        assert (bound.chain, bound.actor, bound.at) == ("", "tester", DAY)
        assert json.loads(bound.payload) == heads and set(heads) == set(chains)
        assert chain_head(session).seq == bound.seq, "the main chain's head binds them"
        assert session.get(Run, run_id).transitions == 7  # the checkpoint is not a transition
        assert verify_chains(session).checkpoints == 1


def test_a_run_on_the_main_chain_alone_leaves_no_checkpoint(town: Engine) -> None:
    with transaction(town) as session:
        campaign = get_campaign(session, "T23")
        run_id, first = begin_run(session, "T23", DAY, "tester")
        append_events(session, [audit_event(1), audit_event(2)])
        assert finish_run(session, run_id, campaign, first, {}) == 2
    assert _checkpoints(town) == []


def test_a_run_that_moved_no_chain_adds_no_checkpoint(town: Engine) -> None:
    """A second run at the same date changes nothing, the audit included; the next run that
    moves a chain binds it again."""
    with transaction(town) as session:
        campaign = get_campaign(session, "T23")
    chain = f"{campaign.id}:P1"
    for moved in (True, False, False, True):
        with transaction(town) as session:
            run_id, first = begin_run(session, "T23", DAY, "tester")
            if moved:
                append_events(session, [audit_event(1)], chain)
            finish_run(session, run_id, campaign, first, {})
    assert len(_checkpoints(town)) == 2
    with transaction(town) as session:
        assert verify_chains(session).checkpoints == 2
