"""Facts lie where the part of the tree that takes them in is (`Fact.path`): a member's fact at
the member's unit, a unit's own at that unit; set by the import and moved with the roster by
the next run's deployment, so a partition reads its own pending facts as ranges of one index
(`campaign.within.facts_within`) and still takes in a moved member's facts."""

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, inspect, select

from campaign import reconcile
from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.intake.unit_tree import import_units
from campaign.partition import Partition, reconcile_partition
from campaign.within import Outside, facts_within
from models.db import transaction
from models.facts import Fact
from models.members import Member
from models.obligations import Obligation, ObligationKind
from models.units import Unit
from tests.input_files import MEMBER_HEADER, UNIT_HEADER, write_csv
from tests.scenario import FACT_HEADER
from tests.town import MEMBERS, UNITS

TODAY = dt.date(2023, 3, 10)  # the day the facts are imported
FACTS = [
    ["2023-02-01", "plan_issued", "G1", "", ""],  # applied by the first run
    ["2023-03-10", "session_held", "B2", "", ""],
    ["2023-03-10", "self_assessment_submitted", "", "M4", ""],  # M4 is in B2
    ["2023-03-10", "self_assessment_submitted", "", "M1", ""],  # M1 is in B1
]


def _paths(engine: Engine) -> dict[str, str]:
    """Each fact's path, by its unit's code or its member's."""
    with transaction(engine) as session:
        rows = session.execute(select(Fact.key, Fact.path).order_by(Fact.id))
        return {key.split("|")[3] or key.split("|")[2]: path for key, path in rows}


def _taken_in(engine: Engine, within: list[str]) -> list[str]:
    """The keys of the pending facts a part of the tree takes in."""
    with transaction(engine) as session:
        scope = facts_within(session, within)
        query = select(Fact.key).where(Fact.applied_on.is_(None), *scope).order_by(Fact.id)
        return list(session.scalars(query))


def _import(engine: Engine, tmp_path: Path) -> None:
    with transaction(engine) as session:
        path = write_csv(tmp_path / "facts.csv", FACT_HEADER, FACTS)
        import_facts("T23", path, session=session, actor="cli", today=TODAY)


def test_the_import_places_each_fact_at_its_members_unit_or_its_own(
    town: Engine, tmp_path: Path
) -> None:
    _import(town, tmp_path)
    assert _paths(town) == {
        "G1": "/TOWN/G1/",
        "B2": "/TOWN/G1/B2/",
        "M4": "/TOWN/G1/B2/",
        "M1": "/TOWN/G1/B1/",
    }
    assert len(_taken_in(town, ["/TOWN/G1/B2/"])) == 2
    assert len(_taken_in(town, ["/TOWN/G1/B1/", "/TOWN/G1/B2/"])) == 3
    # the owner's pass: every pending fact in none of the subtrees
    assert len(_taken_in(town, Outside(["/TOWN/G1/B1/", "/TOWN/G1/B2/"]))) == 1
    assert _taken_in(town, ["/TOWN/G2/"]) == []


def test_a_moved_member_and_a_moved_branch_take_their_pending_facts_along(
    town: Engine, tmp_path: Path
) -> None:
    _import(town, tmp_path)
    reconcile.reconcile(town, "T23", dt.date(2023, 2, 1), "tester")  # applies the plan
    moved = [[*m[:2], "B1", *m[3:]] if m[0] == "M4" else m for m in MEMBERS]
    branch = [[*u[:3], "G3"] if u[0] == "B2" else u for u in UNITS]
    branch.append(["G3", "Đảng bộ xã Tân Mới", "grassroots", "TOWN"])
    on = dt.date(2023, 3, 15)
    with transaction(town) as session:
        import_members(write_csv(tmp_path / "m.csv", MEMBER_HEADER, moved), session=session, on=on)
        import_units(write_csv(tmp_path / "u.csv", UNIT_HEADER, branch), session=session, on=on)
    assert _paths(town)["M4"] == "/TOWN/G1/B2/"  # an import does not move facts by itself
    reconcile.deploy_plan(town, "T23", on, "tester")
    assert _paths(town) == {
        "G1": "/TOWN/G1/",  # applied before: where it was
        "B2": "/TOWN/G3/B2/",  # the branch's own, under its new superior
        "M4": "/TOWN/G1/B1/",  # the member's, at their new branch
        "M1": "/TOWN/G1/B1/",
    }
    taken = _taken_in(town, ["/TOWN/G1/B1/"])
    assert sorted(key.split("|")[3] for key in taken) == ["M1", "M4"]
    assert [key.split("|")[2] for key in _taken_in(town, ["/TOWN/G3/"])] == ["B2"]


def test_fact_paths_compare_byte_by_byte(town: Engine) -> None:
    """On PostgreSQL the column's collation is "C", as the ranges of `path_ranges` need (a
    linguistic collation may sort '/' apart from the codes around it)."""
    columns = {c["name"]: c for c in inspect(town).get_columns("fact")}
    expected = "C" if town.dialect.name == "postgresql" else None
    assert getattr(columns["path"]["type"], "collation", None) == expected


def test_a_member_moving_later_has_their_self_assessment_staged_where_they_are_chased(
    town: Engine, tmp_path: Path
) -> None:
    """M4 moves from B2 to B1 from 16/05 (the roster imported that day). A run dated 15/05 still
    chases M4's self-assessment at B2, while M4's self-assessment of 15/05 lies at B1: the
    deployment stages it for the obligation at B2, whichever part of the tree runs first."""
    reconcile.reconcile(town, "T23", dt.date(2023, 2, 1), "tester")
    may_15, may_16 = dt.date(2023, 5, 15), dt.date(2023, 5, 16)
    assessed = [["2023-05-15", "self_assessment_submitted", "", "M4", ""]]
    moved = [[*m[:2], "B1", *m[3:]] if m[0] == "M4" else m for m in MEMBERS]
    with transaction(town) as session:
        facts = write_csv(tmp_path / "f.csv", FACT_HEADER, assessed)
        import_facts("T23", facts, session=session, actor="cli", today=may_16)
        import_members(
            write_csv(tmp_path / "m.csv", MEMBER_HEADER, moved), session=session, on=may_16
        )
    reconcile.deploy_plan(town, "T23", may_15, "tester", plans=False)
    for key in ("B2", "B1"):  # the obligation's part first, the fact's after
        part = Partition(key, [f"/TOWN/G1/{key}/"])
        reconcile_partition(town, "T23", may_15, "tester", part)
    with transaction(town) as session:
        chased = session.execute(
            select(Unit.code, Obligation.evidence_on, Obligation.state)
            .join(Unit, Unit.id == Obligation.unit_id)
            .join(Member, Member.id == Obligation.member_id)
            .where(Member.code == "M4", Obligation.kind == ObligationKind.self_assess)
        ).one()
    assert tuple(chased) == ("B2", may_15, "met")
