"""The deadline sweep split into chunks of districts: how districts are grouped, and that the
grouping changes nothing of what the sweep does."""

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select, text

import campaign.sweep
from campaign.intake.fact_sheet import import_facts
from campaign.reconcile import reconcile
from campaign.sweep import chunks_of_units, sweep, sweep_chunks
from devtools.generate import GeneratedFiles, generate, load_organisation
from models.audit import AuditEvent
from models.campaigns import Campaign, get_campaign
from models.db import make_engine, migrate, transaction
from models.obligations import Obligation
from models.units import Unit, units_under
from states.engine import FireContext
from tests.campaign.test_partition import transitions


@given(
    units=st.lists(st.integers(min_value=0, max_value=50), max_size=30),
    limit=st.integers(min_value=1, max_value=120),
)
def test_chunks_keep_every_district_once_in_order_and_within_the_limit(
    units: list[int], limit: int
) -> None:
    sizes = [(f"/P/D{i:02d}/", n) for i, n in enumerate(units)]
    chunks = chunks_of_units(sizes, limit)
    assert [p for chunk in chunks for p in chunk] == [p for p, _ in sizes]
    size = dict(sizes)
    for index, chunk in enumerate(chunks):
        held = sum(size[p] for p in chunk)
        assert held <= limit or len(chunk) == 1, "only a district larger than the limit exceeds it"
        if index:  # greedy: the chunk's first district did not fit in the one before
            before = sum(size[p] for p in chunks[index - 1])
            assert before + size[chunk[0]] > limit


def test_a_district_larger_than_the_limit_is_a_chunk_of_its_own() -> None:
    sizes = [("/P/A/", 3), ("/P/B/", 12), ("/P/C/", 2), ("/P/D/", 2)]
    assert chunks_of_units(sizes, 5) == [["/P/A/"], ["/P/B/"], ["/P/C/", "/P/D/"]]


DAYS = ("2023-02-15", "2023-03-31", "2023-05-12", "2023-05-20", "2023-05-27")


def _load(files: GeneratedFiles, url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    load_organisation(engine, files, on=dt.date(2023, 1, 30))
    with transaction(engine) as session:
        import_facts("P23", files.facts, session=session, actor="t", today=dt.date(2026, 1, 1))
    engine.dispose()


Outcome = tuple[dict[int, tuple[str, int]], Counter[tuple[object, ...]]]


def _run(url: str, units_per_task: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Outcome]:
    """Run the timeline with sweep tasks of `units_per_task`; the chunks and the end state."""
    monkeypatch.setattr(campaign.sweep, "SWEEP_UNITS", units_per_task)
    engine = make_engine(url)
    with transaction(engine) as session:
        chunks = sweep_chunks(session, get_campaign(session, "P23"))[1]
    for day in DAYS:
        reconcile(engine, "P23", dt.date.fromisoformat(day), "t")
    with transaction(engine) as session:
        states = {
            i: (s, level)
            for i, s, level in session.execute(
                select(Obligation.id, Obligation.state, Obligation.escalation_level)
            )
        }
        moves = select(
            AuditEvent.entity,
            AuditEvent.entity_id,
            AuditEvent.trigger,
            AuditEvent.from_state,
            AuditEvent.to_state,
            AuditEvent.at,
            AuditEvent.member_id,
            AuditEvent.unit_id,
        ).order_by(AuditEvent.entity_id)
        # The sweep's chunks are the run's partitions, which take in the facts too: a screening
        # case or nomination a fact opens is known by whom, where and when, not its id.
        events = transitions(session.execute(moves).all())
    engine.dispose()
    return chunks, (states, events)


def test_sweeping_district_by_district_or_all_at_once_ends_the_same(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same province through the 2023 timeline, swept in tasks of one district each and
    in one task of every district: the same states, levels and audit events."""
    files = generate(1_500, tmp_path / "files", seed=3, plan_code="P23", districts=4)
    together_url = f"sqlite:///{tmp_path / 'together.db'}"
    _load(files, database_url)
    _load(files, together_url)
    one_each, outcome = _run(database_url, 1, monkeypatch)
    together, same = _run(together_url, 10**9, monkeypatch)
    assert len(one_each) > 1 and all(len(chunk) == 1 for chunk in one_each)
    assert together == [[path for chunk in one_each for path in chunk]]
    states, events = outcome
    assert {"met", "escalated"} <= {state for state, _ in states.values()}
    assert {"remind", "lapse", "escalate"} <= {trigger for _, _, trigger, _, _, _ in events}
    assert same == outcome


def test_a_chunk_of_districts_seeks_its_own_units_obligations(tmp_path: Path) -> None:
    """Each sweep statement of a chunk finds the obligations in a state by the chunk's units
    (campaign, state, unit in the index), never by reading every obligation of the campaign in
    that state: that read, once per chunk, made the sweep of a whole party quadratic."""
    files = generate(300, tmp_path / "files", seed=5, plan_code="P23", districts=4)
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    _load(files, url)
    engine = make_engine(url)
    reconcile(engine, "P23", dt.date(2023, 2, 15), "t")  # deploys
    plans: list[str] = []

    def explain(connection: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("UPDATE obligation SET state") and "unit.path" in statement:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            plans.append(" | ".join(row[3] for row in rows))

    event.listen(engine, "before_cursor_execute", explain)
    with transaction(engine) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.code == "P23")).one()
        owner = session.get_one(Unit, campaign.owner_id)
        district = session.scalars(select(Unit.path).where(Unit.parent_id == owner.id)).first()
        assert district is not None
        ctx = FireContext(actor="t", as_of=dt.date(2023, 5, 20), campaign_id=campaign.id)
        sweep(session, campaign.id, [district], ctx)
    engine.dispose()
    assert plans
    seek = "ix_obligation_campaign_state_unit (campaign_id=? AND state=? AND unit_id=?)"
    assert all(seek in plan for plan in plans), plans[0]
    subtree = "SEARCH unit USING COVERING INDEX ix_unit_path (path>? AND path<?)"
    assert all(subtree in plan for plan in plans), plans[0]


TRICKY = [
    "/P/",
    "/P/D01/",
    "/P/D01/G1/",
    "/P/D01/G1/B-2/",
    "/P/D01-A/",
    "/P/D010/",
    "/P/D01X/",
    "/P/D01./",
    "/P/Đ01/",
    "/P/Đ01/Xã Tân Hải/",
    "/P/Đ01Ă/",
    "/Q/D01/",
]


def test_a_subtree_is_every_path_under_it_and_nothing_else(engine: Any) -> None:
    """Whether a subtree is a range of paths in byte order (what the sweep uses on SQLite and
    PostgreSQL) or a LIKE: exactly the units whose path starts with the subtree's, whatever
    characters their codes use."""
    dialect = engine.dialect.name
    with transaction(engine) as session:
        session.add_all(
            Unit(code=f"U{i}", name=path, kind="branch", path=path) for i, path in enumerate(TRICKY)
        )
        session.flush()
        for way in (dialect, "any other"):
            for root in TRICKY:
                chosen = select(Unit.path).where(units_under([root], dialect=way))
                assert set(session.scalars(chosen)) == {p for p in TRICKY if p.startswith(root)}
            both = select(Unit.path).where(units_under(TRICKY[1:3], dialect=way))
            assert set(session.scalars(both)) == {p for p in TRICKY if p.startswith("/P/D01/")}
        if dialect == "postgresql":  # the range can be read from the index in byte order
            session.execute(text("SET LOCAL enable_seqscan = off"))
            chosen = select(Unit.id).where(units_under(["/P/D01/"], dialect=dialect))
            shown = chosen.compile(engine, compile_kwargs={"literal_binds": True})
            plan = session.execute(text(f"EXPLAIN {shown}")).scalars()
            assert "ix_unit_path_bytes" in " ".join(plan)
