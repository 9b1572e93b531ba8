"""A facts file is refused whole, and read against what is already stored: the same facts
written another way are known, and a fact is refused by the facts before it (stored, or
applied by a run)."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from campaign.intake import fact_sheet as facts
from campaign.intake.fact_sheet import import_facts
from models.db import transaction
from models.errors import InputError
from models.facts import Fact
from tests.input_files import write_csv
from tests.scenario import FACT_HEADER, ON_TIME, record_facts, run_flow


def test_a_refused_facts_file_leaves_nothing_behind(town: Engine, tmp_path: Path) -> None:
    rows = [
        *ON_TIME,
        ["2023-03-11", "self_assessment_accepted", "B1", "M2", ""],
        ["2023-03-11", "self_assessment_accepted", "B2", "M4", ""],
        ["2023-03-11", "session_held", "B1", "M3", ""],
        ["2022-12-01", "session_held", "B2", "", ""],
    ]
    with pytest.raises(InputError) as refused:
        record_facts(town, tmp_path, "bad.csv", rows)
    lines = refused.value.lines()
    assert lines == [
        "bad.csv, row 9, column kind: 'self_assessment_accepted' is not valid on 11/03/2023: "
        "the assessment is 'pending'",
        "bad.csv, row 10, column member: 'M3' is exempt and outside the targets",
        "bad.csv, row 11, column date: 01/12/2022 is before the plan was issued (30/01/2023)",
    ]
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == 0
    # The valid rows before the bad ones were written while the file was checked: a caller
    # that catches the refusal and commits its transaction still stores none of them.
    with transaction(town) as session, pytest.raises(InputError):
        import_facts(
            "T23", tmp_path / "bad.csv", session=session, actor="t", today=dt.date(2026, 1, 1)
        )
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == 0
    record_facts(town, tmp_path, "good.csv", ON_TIME)
    record_facts(town, tmp_path, "good.csv", ON_TIME)
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == len(ON_TIME)


def test_a_fact_is_recognised_as_recorded_whichever_way_its_date_is_written(
    town: Engine, tmp_path: Path
) -> None:
    """Stored keys are read by the file's dates (a day's file reads a day's keys): the same
    facts written as 15/03/2023, or with one date cell not plainly written, are still known."""
    record_facts(town, tmp_path, "iso.csv", ON_TIME)
    vietnamese = [[f"{r[0][8:]}/{r[0][5:7]}/{r[0][:4]}", *r[1:]] for r in ON_TIME]
    with transaction(town) as session:
        path = write_csv(tmp_path / "vn.csv", FACT_HEADER, vietnamese)
        again = import_facts("T23", path, session=session, actor="t", today=dt.date(2026, 1, 1))
    assert (again.recorded, again.already_recorded) == (0, len(ON_TIME))
    # ON_TIME's first fact (10/02), written as a timestamp, outside the other row's day.
    timestamped = ["2023-02-10T00:00:00", "plan_issued", "G1", "", ""]
    later = ["2023-03-21", "session_held", "B2", "", ""]
    with transaction(town) as session:
        path = write_csv(tmp_path / "mixed.csv", FACT_HEADER, [later, timestamped])
        mixed = import_facts("T23", path, session=session, actor="t", today=dt.date(2026, 1, 1))
    assert (mixed.recorded, mixed.already_recorded) == (1, 1)
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == len(ON_TIME) + 1


@pytest.mark.parametrize("scan_above", [0, facts.SCAN_ABOVE], ids=["one-scan", "by-ids"])
def test_facts_are_replayed_on_top_of_what_is_stored(
    town: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan_above: int
) -> None:
    """The same refusals whether the members and stored facts are read by lists of ids (a day's
    file) or by one scan (a file naming more than SCAN_ABOVE)."""
    monkeypatch.setattr(facts, "SCAN_ABOVE", scan_above)
    record_facts(town, tmp_path, "first.csv", ON_TIME)
    record_facts(
        town, tmp_path, "second.csv", [["2023-03-15", "self_assessment_accepted", "B1", "M2", ""]]
    )
    with pytest.raises(
        InputError,
        match="row 2, column kind: 'self_assessment_accepted' is not "
        "valid on 15/03/2023: the assessment is 'accepted'",
    ):
        record_facts(
            town,
            tmp_path,
            "third.csv",
            [["2023-03-15", "self_assessment_accepted", "B1", "M1", ""]],
        )
    run_flow(town, "2023-04-01")
    with pytest.raises(
        InputError, match="dated before facts of the same assessment that a run has already applied"
    ):
        record_facts(
            town,
            tmp_path,
            "fourth.csv",
            [["2023-03-11", "self_assessment_returned", "B1", "M1", ""]],
        )
