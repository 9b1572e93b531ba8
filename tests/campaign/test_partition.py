"""A reconcile split by partitions (`campaign.partition`): the whole 2023 timeline of a generated
province ends as the campaign-wide reconcile did before (status, escalations, every
transition), a partition run again changes nothing, and one cut short midway and run again
takes nothing in twice."""

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Engine, func, select

import campaign.sweep
from campaign import reconcile
from campaign.intake.fact_sheet import import_facts
from campaign.partition import (
    FACT_STEPS,
    Partition,
    chain_key,
    partitions,
    reconcile_partition,
    run_step,
)
from campaign.status import campaign_status, open_escalations
from devtools.generate import GeneratedFiles, generate, load_organisation
from models.audit import AuditEvent
from models.campaigns import get_campaign
from models.db import make_engine, migrate, transaction
from models.facts import Fact
from models.units import Unit
from models.views import EscalationView
from tests.scenario import ON_TIME, record_facts
from tests.town import load_town

DAYS = (
    "2023-02-01",
    "2023-02-15",
    "2023-02-16",
    "2023-03-31",
    "2023-05-12",
    "2023-05-19",
    "2023-05-20",
    "2023-05-27",
    "2023-06-23",
    "2023-06-30",
)


def whole_campaign(engine: Engine, code: str, as_of: dt.date) -> None:
    """The reconcile as it was before partitions: every step campaign-wide (`within` None),
    the sweep by `sweep_scopes`."""
    run_id, first_seq = reconcile.start_run(engine, code, as_of, "t")
    created, applied = reconcile.deploy_plan(engine, code, as_of, "t")
    for step in (
        reconcile.hold_branch_sessions,
        reconcile.collect_reports,
        reconcile.screen_members,
        reconcile.commend_exemplars,
        reconcile.report_upward,
    ):
        applied += step(engine, code, as_of, "t")
    for scope in reconcile.sweep_scopes(engine, code):
        reconcile.deadline_sweep(engine, code, as_of, "t", scope.paths, scope.subtree)
    reconcile.escalate(engine, code, as_of, "t")
    counts = {"facts_applied": applied, "obligations_created": created}
    reconcile.finish(engine, code, as_of, "t", run_id, first_seq, counts)


def outcome(engine: Engine, code: str) -> tuple[str, str, Counter[tuple[Any, ...]], int]:
    """What a run leaves: `status --format json`, `escalations --format json`, the audit
    trail's transitions as a multiset, and the facts left unapplied."""
    with transaction(engine) as session:
        status = campaign_status(session, code).model_dump_json()
        late = TypeAdapter(list[EscalationView]).dump_json(open_escalations(session, code))
        moves = select(
            AuditEvent.entity,
            AuditEvent.entity_id,
            AuditEvent.trigger,
            AuditEvent.from_state,
            AuditEvent.to_state,
            AuditEvent.at,
            AuditEvent.member_id,
            AuditEvent.unit_id,
        )
        # A checkpoint binding the chains' heads is no transition (one chain needs none).
        moves = moves.where(AuditEvent.entity != "audit_checkpoint").order_by(AuditEvent.entity_id)
        events = transitions(session.execute(moves).all())
        pending = session.scalar(select(func.count()).where(Fact.applied_on.is_(None))) or 0
    return status, late.decode(), events, pending


# The entities a fact opens (a screening case, a nomination): their ids are drawn in the order
# the partitions run (in parallel, in any order), so they are known by whom they were opened
# for, where, when, and their rank among those.
OPENED = ("screening", "commendation")


def transitions(rows: Sequence[Any]) -> Counter[tuple[Any, ...]]:
    """The audit's transitions as a multiset of (entity, id, trigger, from, to, at); an opened
    entity's id as (member, unit, day opened, rank)."""
    opened: dict[tuple[str, int], tuple[Any, ...]] = {}
    ranks: Counter[tuple[Any, ...]] = Counter()
    for entity, entity_id, trigger, _, _, at, member, unit in rows:  # by id: ranks kept
        if entity in OPENED and trigger == "open":
            ranks[(entity, member, unit, at)] += 1
            opened[(entity, entity_id)] = (member, unit, at, ranks[(entity, member, unit, at)])
    return Counter(
        (entity, opened.get((entity, entity_id), entity_id), *rest)
        for entity, entity_id, *rest, _, _ in rows
    )


def differences(got: Counter[Any], want: Counter[Any]) -> str:
    """The first transitions one side has and the other has not."""
    return f"extra: {sorted(got - want, key=str)[:8]}\nmissing: {sorted(want - got, key=str)[:8]}"


def _load(files: GeneratedFiles, url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    load_organisation(engine, files, on=dt.date(2023, 1, 30))
    with transaction(engine) as session:
        import_facts("P23", files.facts, session=session, actor="t", today=dt.date(2026, 1, 1))
    return engine


@pytest.fixture
def province(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Engine, Engine]:
    """A generated province of 3,000 members in 4 districts, with its year of facts, loaded
    twice: in the database under test, and in a SQLite file for the campaign-wide reference;
    partitioned a district each (its 130 units would be one chunk)."""
    monkeypatch.setattr(campaign.sweep, "SWEEP_UNITS", 1)
    files = generate(3_000, tmp_path / "files", seed=7, plan_code="P23", districts=4)
    engine.dispose()
    _load(files, engine.url.render_as_string(hide_password=False)).dispose()
    reference = _load(files, f"sqlite:///{tmp_path / 'reference.db'}")
    return engine, reference


def test_the_partitions_of_a_province_are_its_districts_in_chunks(
    province: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A district each when each is a chunk (keyed by its code), else chunks of them."""
    engine, _ = province
    parts = partitions(engine, "P23")
    assert [p.key for p in parts] == ["D01", "D02", "D03", "D04"]
    assert all(p.paths == [f"/TINH/{p.key}/"] for p in parts), parts
    assert chain_key(7, "D01") == "7:D01"
    assert Partition(*parts[0]) == parts[0]  # as a child flow run is given it: key, paths
    with transaction(engine) as session:
        units = session.scalar(select(func.count()).where(Unit.path.startswith("/TINH/D"))) or 0
    monkeypatch.setattr(campaign.sweep, "SWEEP_UNITS", units // 2 + 1)
    chunks = partitions(engine, "P23")
    assert 1 < len(chunks) < 4
    assert [path for part in chunks for path in part.paths] == [p.paths[0] for p in parts]
    for n, part in enumerate(chunks, 1):
        assert part.key == (f"chunk-{n}" if len(part.paths) > 1 else part.paths[0][6:-1])
    monkeypatch.setattr(campaign.sweep, "SWEEP_UNITS", 10**6)
    assert [p.key for p in partitions(engine, "P23")] == ["chunk-1"]


def test_the_partitioned_timeline_ends_as_the_campaign_wide_one(
    province: tuple[Engine, Engine],
) -> None:
    """Every date of the 2023 timeline through the partitioned reconcile, and through each step
    campaign-wide: the same status, escalations and transitions; each partition's transitions
    on its own chain; every fact applied once."""
    engine, reference = province
    for day in DAYS:
        reconcile.reconcile(engine, "P23", dt.date.fromisoformat(day), "t")
        whole_campaign(reference, "P23", dt.date.fromisoformat(day))
    got, want = outcome(engine, "P23"), outcome(reference, "P23")
    _, late, events, pending = got
    assert {"remind", "lapse", "escalate", "meet", "accept"} <= {e[2] for e in events}
    assert '"escalated"' in late and pending == want[3]
    assert events == want[2], differences(events, want[2])
    assert got == want
    chain = getattr(AuditEvent, "chain", None)  # the chains' column (engineer "chains")
    if chain is not None:
        with transaction(engine) as session:
            chains = set(session.scalars(select(chain).distinct()))
            campaign_id = get_campaign(session, "P23").id
        assert {chain_key(campaign_id, p.key) for p in partitions(engine, "P23")} <= chains


def test_a_partition_run_again_changes_nothing(province: tuple[Engine, Engine]) -> None:
    engine, _ = province
    day = dt.date(2023, 5, 20)
    for before in ("2023-02-15", "2023-03-31", "2023-05-20"):
        reconcile.reconcile(engine, "P23", dt.date.fromisoformat(before), "t")
    done = outcome(engine, "P23")
    for part in partitions(engine, "P23"):
        assert reconcile_partition(engine, "P23", day, "t", part) == {
            "facts_applied": 0,
            "moves": 0,
        }
    assert outcome(engine, "P23") == done


def test_a_partition_cut_short_and_run_again_takes_nothing_in_twice(
    province: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partition whose screening step dies midway (its transaction rolled back, the steps
    before it committed), then the whole run again: the end state of an uninterrupted run."""
    engine, reference = province
    for before in DAYS[:4]:
        reconcile.reconcile(engine, "P23", dt.date.fromisoformat(before), "t")
        whole_campaign(reference, "P23", dt.date.fromisoformat(before))
    day = dt.date.fromisoformat(DAYS[4])
    run_id, _ = reconcile.start_run(engine, "P23", day, "t")
    reconcile.deploy_plan(engine, "P23", day, "t", plans=False)
    first = partitions(engine, "P23")[0]
    step = FACT_STEPS["collect-reports"]
    applied = run_step(engine, "P23", day, "t", step, first.paths, first.key)
    assert applied > 0

    def dies(*args: Any) -> int:
        FACT_STEPS["commend-exemplars"](*args)  # written, then the process dies
        raise RuntimeError("killed")

    monkeypatch.setitem(FACT_STEPS, "screen-members", dies)
    with pytest.raises(RuntimeError):
        reconcile_partition(engine, "P23", day, "t", first)
    monkeypatch.undo()
    reconcile.reconcile(engine, "P23", day, "t", resume=run_id)
    whole_campaign(reference, "P23", day)
    for later in DAYS[5:]:
        reconcile.reconcile(engine, "P23", dt.date.fromisoformat(later), "t")
        whole_campaign(reference, "P23", dt.date.fromisoformat(later))
    assert outcome(engine, "P23") == outcome(reference, "P23")


def test_the_towns_partitions_are_its_grassroots_in_one_chunk(
    engine: Engine, tmp_path: Path
) -> None:
    """The seed town (grassroots organisations under it, no districts): one chunk of them; its
    timeline of facts ends as the campaign-wide reconcile's."""
    load_town(engine, tmp_path)
    record_facts(engine, tmp_path, "on-time.csv", ON_TIME)
    control = make_engine(f"sqlite:///{tmp_path / 'control.db'}")
    migrate(control)
    (tmp_path / "control").mkdir()
    load_town(control, tmp_path / "control")
    record_facts(control, tmp_path / "control", "on-time.csv", ON_TIME)
    parts = partitions(engine, "T23")
    assert len(parts) == 1 and parts[0].key == "chunk-1"
    assert "/TOWN/G1/" in parts[0].paths
    for day in DAYS:
        reconcile.reconcile(engine, "T23", dt.date.fromisoformat(day), "t")
        whole_campaign(control, "T23", dt.date.fromisoformat(day))
    assert outcome(engine, "T23") == outcome(control, "T23")
    control.dispose()
