"""The synthetic data generator."""

import csv
import datetime as dt
import itertools
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from devtools.generate import GeneratedFiles, generate


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> GeneratedFiles:
    return generate(20_000, tmp_path_factory.mktemp("gen"), seed=7)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = (generate(800, tmp_path / n, seed=s) for n, s in (("a", 1), ("b", 1), ("c", 2)))
    for name in ("units", "members", "facts", "plan"):
        assert getattr(a, name).read_bytes() == getattr(b, name).read_bytes()
    assert a.members.read_bytes() != c.members.read_bytes()


def test_shape_of_a_province(province: GeneratedFiles) -> None:
    units, members = _rows(province.units), _rows(province.members)
    assert len(members) == 20_000
    seen: set[str] = set()
    for unit in units:
        assert not unit["parent"] or unit["parent"] in seen, "parents come first"
        seen.add(unit["code"])
    children: dict[str, list[str]] = defaultdict(list)
    for unit in units:
        children[unit["parent"]].append(unit["code"])
    grassroots = [u["code"] for u in units if u["kind"] == "grassroots"]
    with_branches = [g for g in grassroots if children[g]]
    assert 0 < len(with_branches) < len(grassroots), "some chi bộ cơ sở hold members directly"
    sizes = Counter(m["unit"] for m in members)
    assert all(not children[unit] for unit in sizes), "members sit in units without children"
    assert sum(10 <= n <= 40 for n in sizes.values()) >= len(sizes) - 1
    share = Counter(m["status"] for m in members)
    assert 0.015 < share["exempt"] / 20_000 < 0.045
    assert 0.01 < share["transferred_out"] / 20_000 < 0.035
    assert 0.07 < sum(m["leader"] == "yes" for m in members) / 20_000 < 0.13


def test_facts_are_valid_sequences_of_active_members(province: GeneratedFiles) -> None:
    active = {m["code"] for m in _rows(province.members) if m["status"] == "active"}
    history: dict[str, list[str]] = defaultdict(list)
    for fact in _rows(province.facts):
        day = dt.date.fromisoformat(fact["date"])
        assert dt.date(2023, 1, 30) <= day <= dt.date(2023, 7, 31)
        if fact["member"]:
            assert fact["member"] in active
            history[fact["member"]].append(fact["kind"] + ":" + fact["note"])
    for events in history.values():
        assessment = [e for e in events if e.startswith("self_assessment")]
        for before, after in itertools.pairwise(assessment):
            assert before.startswith("self_assessment_submitted") != after.startswith(
                "self_assessment_submitted"
            ), events
        steps = [e.split(":")[1] for e in events if e.startswith("screening_step")]
        assert steps[:2] == ["educate", "help"] or not steps


def test_the_town_has_a_district_root(tmp_path: Path) -> None:
    files = generate(300, tmp_path, shape="town")
    assert _rows(files.units)[0] == {
        "code": "LAGI",
        "name": "Thị ủy La Gi",
        "kind": "district",
        "parent": "",
    }
