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


@pytest.mark.parametrize("chunk", [1, facts.CHUNK_ROWS], ids=["row-by-row", "one-chunk"])
def test_facts_are_replayed_on_top_of_what_is_stored(
    town: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The same refusals whether the file is checked row by row or in one chunk: an entity's
    history is replayed whole, whichever chunks its facts came in."""
    monkeypatch.setattr(facts, "CHUNK_ROWS", chunk)
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


def test_duplicates_across_chunks_and_stored_facts_are_recorded_once(
    town: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked two rows at a time, a fact repeated in a later chunk, or stored before, is
    skipped; an assessment submitted in one chunk is accepted in another; a bad last row
    refuses the chunks already staged."""
    monkeypatch.setattr(facts, "CHUNK_ROWS", 2)
    record_facts(town, tmp_path, "first.csv", ON_TIME[:2])
    accepted = ["2023-03-14", "self_assessment_accepted", "B1", "M2", ""]
    rows = [ON_TIME[2], ON_TIME[0], ON_TIME[3], ON_TIME[2], accepted, ON_TIME[1], ON_TIME[3]]
    with transaction(town) as session:
        path = write_csv(tmp_path / "second.csv", FACT_HEADER, rows)
        done = import_facts("T23", path, session=session, actor="t", today=dt.date(2026, 1, 1))
    assert (done.rows, done.recorded, done.already_recorded) == (7, 3, 4)
    with transaction(town) as session:
        again = import_facts("T23", path, session=session, actor="t", today=dt.date(2026, 1, 1))
        assert (again.recorded, again.already_recorded) == (0, 7)
        assert session.scalar(select(func.count()).select_from(Fact)) == 5
    bad = [ON_TIME[4], ON_TIME[5], ["2023-03-15", "self_assessment_accepted", "B1", "M2", ""]]
    with pytest.raises(InputError, match="row 4, column kind: 'self_assessment_accepted'"):
        record_facts(town, tmp_path, "third.csv", bad)
    with transaction(town) as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == 5
