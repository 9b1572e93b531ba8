"""A run's partitions in groups, one child flow run a group (`flows.fanout`): balanced by the
members each partition holds (`campaign.partition.partition_sizes`), deterministic, every
partition in exactly one group, never more groups than partitions, as many as
`CAMPAIGN_PARTITION_GROUPS` says. No Prefect server: tests/flows/test_fanout.py runs the groups
on two workers."""

import random

import pytest
from sqlalchemy import Engine, select

import campaign.sweep
from campaign.partition import Partition, partition_sizes, partitions
from flows.fanout import balanced_groups, group_count
from models.db import transaction
from models.settings import get_settings
from models.units import Unit


def _parts(sizes: list[int]) -> list[Partition]:
    return [Partition(f"P{n:02}", [f"/N/P{n:02}/"]) for n in range(len(sizes))]


@pytest.mark.parametrize("seed", range(5))
def test_groups_are_balanced_deterministic_and_hold_every_partition_once(seed: int) -> None:
    """63 provinces of random sizes in 4 groups: none more than the largest province above
    the mean; the same groups from the same sizes; the groups by their first partition."""
    sizes = [random.Random(seed).randint(20_000, 300_000) for _ in range(63)]
    parts = _parts(sizes)
    groups = balanced_groups(parts, sizes, 4)
    assert groups == balanced_groups(parts, list(sizes), 4)
    assert sorted(p.key for g in groups for p in g) == [p.key for p in parts]
    size = dict(zip((p.key for p in parts), sizes, strict=True))
    loads = [sum(size[p.key] for p in g) for g in groups]
    assert len(groups) == 4 and max(loads) - sum(loads) / 4 <= max(sizes)
    assert max(loads) / min(loads) < 1.1, loads
    for group in groups:
        assert group == sorted(group, key=parts.index), "a group in the order of the parts"
    assert [g[0] for g in groups] == sorted((g[0] for g in groups), key=parts.index)


def test_never_more_groups_than_partitions_and_never_an_empty_one() -> None:
    """Fewer partitions than groups: one each; partitions of no members spread, not piled."""
    parts = _parts([0] * 6)
    assert balanced_groups(parts[:3], [5, 1, 9], 8) == [[parts[0]], [parts[1]], [parts[2]]]
    assert [len(g) for g in balanced_groups(parts, [0] * 6, 4)] == [2, 2, 1, 1]
    assert balanced_groups(parts, [9, 1, 1, 1, 1, 5], 2) == [[parts[0]], parts[1:]]


def test_the_number_of_groups_by_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """`auto`: one a live worker besides the run's own (at least one), at most the
    partitions; a number: that many, at most the partitions."""
    counts = {}
    for setting in ("auto", "3"):
        monkeypatch.setenv("CAMPAIGN_PARTITION_GROUPS", setting)
        get_settings.cache_clear()
        counts[setting] = [group_count(w, n) for w, n in ((0, 63), (2, 63), (2, 3), (5, 63))]
    get_settings.cache_clear()
    assert counts == {"auto": [1, 2, 2, 5], "3": [3, 3, 3, 3]}


def test_partition_sizes_count_the_members_under_each_partitions_paths(
    town: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The town's grassroots organisations (G1: B1's 3 members and B2's 2; G2: its own 2),
    a branch alone, and both at once."""
    monkeypatch.setattr(campaign.sweep, "SWEEP_UNITS", 1)
    parts = partitions(town, "T23")
    with transaction(town) as session:
        path = dict(session.execute(select(Unit.code, Unit.path)).all())
    assert [p.key for p in parts] == ["G1", "G2"]
    both = Partition("both", [path["G1"], path["G2"]])
    branch = Partition("B1", [path["B1"]])
    assert partition_sizes(town, [*parts, both, branch]) == [5, 2, 7, 3]
    assert partition_sizes(town, []) == []
