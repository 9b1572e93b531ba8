"""The generated nation: its shape, that it is written in bounded memory, and that a small one
imports and reconciles, on both backends, to the counts it was generated with."""

import csv
import datetime as dt
import hashlib
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine

from campaign.intake.fact_sheet import import_facts
from campaign.reconcile import reconcile
from campaign.status import campaign_status
from devtools.generate import (
    GeneratedFiles,
    Shape,
    generate,
    load_organisation,
    nation_provinces,
)
from devtools.organisation_words import PROVINCES
from models.db import transaction

LEVEL_ABOVE = {"province": "central", "district": "province", "grassroots": "district"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _province_of(units: list[dict[str, str]]) -> dict[str, str]:
    """Each unit's province (a province its own), read down the file: parents come first."""
    province: dict[str, str] = {}
    for unit in units:
        if unit["kind"] == "province":
            province[unit["code"]] = unit["code"]
        elif unit["parent"] in province:
            province[unit["code"]] = province[unit["parent"]]
    return province


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> GeneratedFiles:
    return generate(20_000, tmp_path_factory.mktemp("nation"), seed=3, shape="nation")


def test_a_small_nation_is_a_few_provinces_of_a_few_districts(nation: GeneratedFiles) -> None:
    units, members = _rows(nation.units), _rows(nation.members)
    assert units[0] == {
        "code": "TW",
        "name": "Ban Chấp hành Trung ương",
        "kind": "central",
        "parent": "",
    }
    kind = {u["code"]: u["kind"] for u in units}
    for unit in units[1:]:
        above = kind[unit["parent"]]
        assert above == LEVEL_ABOVE.get(unit["kind"], "grassroots"), unit
    provinces = [u for u in units if u["kind"] == "province"]
    assert len(provinces) == nation.counts["provinces"] == 3
    districts = Counter(u["parent"] for u in units if u["kind"] == "district")
    assert set(districts) == {p["code"] for p in provinces}
    assert all(1 <= n <= 5 for n in districts.values()), districts
    assert len(members) == nation.counts["members"] == 20_000
    parents = {u["parent"] for u in units}
    assert all(m["unit"] not in parents for m in members), "members sit in units without children"


def test_provinces_share_the_members_by_their_real_weights(nation: GeneratedFiles) -> None:
    province = _province_of(_rows(nation.units))
    sizes = Counter(province[m["unit"]] for m in _rows(nation.members))
    weights = {f"T{i + 1:02d}": w for i, (_, w) in enumerate(PROVINCES)}
    total = sum(weights[code] for code in sizes)
    for code, size in sizes.items():
        assert abs(size - 20_000 * weights[code] / total) < 1, (code, size)


def test_a_nation_keeps_63_provinces_when_large_and_fewer_when_small() -> None:
    assert [nation_provinces(n) for n in (100, 20_000, 200_000, 378_000, 5_600_000)] == [
        1,
        3,
        33,
        63,
        63,
    ]


def _peak(members: int, out: Path) -> int:
    tracemalloc.start()
    try:
        files = generate(members, out, seed=2, shape="nation")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        assert files.counts["members"] == members


def test_the_files_are_written_as_their_rows_are_made(tmp_path: Path) -> None:
    """30,000 members more take under 3 MB more at the peak (a byte per member, a row per unit
    holding members, a day's facts; the roster and facts in lists took 30 MB more), and leave
    nothing but the four files."""
    small = _peak(10_000, tmp_path / "small")
    large = _peak(40_000, tmp_path / "large")
    assert large - small < 3 * 2**20, (small, large)
    assert sorted(p.name for p in (tmp_path / "large").iterdir()) == [
        "facts.csv",
        "members.csv",
        "plan.yaml",
        "units.csv",
    ]


# The files of a province and a town as the generator wrote them before it streamed: a seed's
# files must not change by a byte (benches and tests compare runs on them).
BEFORE = {
    "province": {
        "units": "b0a24832cfc1b6f1373e9a2d167c2bb0",
        "members": "35f39ab73b31799d77a4ddf2587c0ba3",
        "plan": "84c49725c00a36a26408dd1fe012a964",
        "facts": "33c3ed681d4374668cfbd3c139980d00",
    },
    "town": {
        "units": "9618830ad956de0aa66dc78a1ccea810",
        "members": "fd805f65888bad56419f91dcd0f09ae8",
        "plan": "c5e62691d0eae79ff1d56a052897d216",
        "facts": "e869b1ea34da8fd431d4710a73c4129d",
    },
}


@pytest.mark.parametrize(("shape", "members"), [("province", 800), ("town", 300)])
def test_a_province_and_a_town_are_those_of_before(
    tmp_path: Path, shape: Shape, members: int
) -> None:
    files = generate(members, tmp_path, seed=1, shape=shape)
    found = {
        name: hashlib.md5(getattr(files, name).read_bytes()).hexdigest()
        for name in ("units", "members", "plan", "facts")
    }
    assert found == BEFORE[shape]


def test_a_small_nation_reconciles_to_its_generated_counts(engine: Engine, tmp_path: Path) -> None:
    files = generate(
        2_400, tmp_path, seed=5, shape="nation", provinces=3, districts=2, plan_code="NATION"
    )
    load_organisation(engine, files, on=dt.date(2023, 1, 30))
    with transaction(engine) as session:
        import_facts("NATION", files.facts, session=session, actor="t", today=dt.date(2026, 1, 1))
    as_of = dt.date(2023, 5, 27)
    reconcile(engine, "NATION", as_of, "t")
    with transaction(engine) as session:
        status = campaign_status(session, "NATION")
    units, members = _rows(files.units), _rows(files.members)
    active = [m for m in members if m["status"] == "active"]
    held = {
        f["unit"]
        for f in _rows(files.facts)
        if f["kind"] == "session_held" and f["date"] <= as_of.isoformat()
    }
    targets = status.targets
    assert targets.members_self_assessed.eligible == len(active)
    assert targets.leaders_self_assessed.eligible == sum(m["leader"] == "yes" for m in active)
    assert targets.branches_with_sessions.eligible == len({m["unit"] for m in members})
    assert targets.branches_with_sessions.done == len(held)
    province = _province_of(units)
    by_province = Counter(province[m["unit"]] for m in active)
    shown = {u.code: u for u in status.units}
    assert {u.kind for u in status.units} == {
        "central",
        "province",
        "district",
        "grassroots",
        "branch",
    }
    for code, count in by_province.items():
        assert shown[code].targets.members_self_assessed.eligible == count
        assert shown[code].parent == "TW"
