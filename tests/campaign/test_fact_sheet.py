"""Facts import: a member's fact may leave its unit out, and takes the member's unit at the
fact's date (the roster keeps each member's dated changes of unit)."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from campaign.intake import fact_sheet as facts
from campaign.intake.fact_sheet import FactsSummary, import_facts
from campaign.intake.member_roster import import_members
from models.db import transaction
from models.errors import InputError
from models.facts import Fact
from models.units import Unit
from tests.input_files import MEMBER_HEADER, write_csv
from tests.scenario import FACT_HEADER
from tests.town import MEMBERS


def _import(engine: Engine, path: Path, rows: list[list[str]]) -> FactsSummary:
    with transaction(engine) as session:
        write_csv(path, FACT_HEADER, rows)
        return import_facts("T23", path, session=session, actor="t", today=dt.date(2026, 1, 1))


def _stored_units(engine: Engine) -> dict[tuple[str, str], str]:
    """(date, kind) -> the code of the unit each stored fact was recorded for."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Fact.date, Fact.kind, Unit.code).join(Unit, Unit.id == Fact.unit_id)
        )
        return {(day.isoformat(), kind): code for day, kind, code in rows}


def _move_m4_to_b1(engine: Engine, folder: Path) -> None:
    """M4 leaves B2 for B1 by the roster imported on 01/04/2023."""
    moved = [[*m[:2], "B1", *m[3:]] if m[0] == "M4" else m for m in MEMBERS]
    with transaction(engine) as session:
        path = write_csv(folder / "moved.csv", MEMBER_HEADER, moved)
        import_members(path, session=session, on=dt.date(2023, 4, 1))


def test_a_members_fact_without_a_unit_takes_the_members_unit(town: Engine, tmp_path: Path) -> None:
    first = _import(
        town, tmp_path / "a.csv", [["2023-03-10", "self_assessment_submitted", "", "M4", ""]]
    )
    assert first.recorded == 1
    assert _stored_units(town) == {("2023-03-10", "self_assessment_submitted"): "B2"}
    # The same fact with its unit written is the one already recorded.
    again = _import(
        town, tmp_path / "b.csv", [["2023-03-10", "self_assessment_submitted", "B2", "M4", ""]]
    )
    assert (again.recorded, again.already_recorded) == (0, 1)


@pytest.mark.parametrize("chunk", [1, facts.CHUNK_ROWS], ids=["row-by-row", "one-chunk"])
def test_a_moved_members_fact_takes_the_unit_of_its_date(
    town: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(facts, "CHUNK_ROWS", chunk)
    _move_m4_to_b1(town, tmp_path)
    _import(
        town,
        tmp_path / "a.csv",
        [
            ["2023-03-20", "self_assessment_submitted", "", "M4", ""],
            ["2023-04-05", "self_assessment_accepted", "", "M4", ""],
        ],
    )
    assert _stored_units(town) == {
        ("2023-03-20", "self_assessment_submitted"): "B2",
        ("2023-04-05", "self_assessment_accepted"): "B1",
    }


def test_a_unit_that_disagrees_with_the_members_is_refused(town: Engine, tmp_path: Path) -> None:
    _move_m4_to_b1(town, tmp_path)
    rows = [
        ["2023-03-20", "self_assessment_submitted", "B1", "M4", ""],  # in B2 until 01/04
        ["2023-03-20", "self_assessment_submitted", "G2", "M1", ""],
        ["2023-03-20", "session_held", "", "", ""],
        ["2023-03-20", "self_assessment_submitted", "", "M99", ""],
    ]
    with pytest.raises(InputError) as refused:
        _import(town, tmp_path / "bad.csv", rows)
    assert refused.value.lines() == [
        "bad.csv, row 2, column member: 'M4' is not a member of 'B1' on 20/03/2023",
        "bad.csv, row 3, column member: 'M1' is not a member of 'G2'",
        "bad.csv, row 4, column unit: is empty (give the unit, or the member whose unit it is)",
        "bad.csv, row 5, column member: unknown member 'M99'",
    ]
    assert _stored_units(town) == {}
