"""A facts import bound to one unit (the console's account): a row whose unit, or whose
member's unit, lies outside it is refused by row and column; the rows already read (a form's)
go through the same checks as a file."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from campaign.intake.fact_sheet import import_facts
from models.db import transaction
from models.errors import InputError
from models.facts import FACT_COLUMNS, Fact
from models.files import Sheet, SheetRow
from tests.input_files import write_csv
from tests.scenario import FACT_HEADER

TODAY = dt.date(2026, 1, 1)
B1 = "/TOWN/G1/B1/"


def _count(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Fact)) or 0)


def test_rows_outside_the_unit_are_refused_by_row_and_column(town: Engine, tmp_path: Path) -> None:
    rows = [
        ["2023-03-10", "session_held", "B1", "", ""],
        ["2023-03-10", "session_held", "B2", "", ""],
        ["2023-03-10", "self_assessment_submitted", "", "M4", ""],  # M4 is in B2
    ]
    path = write_csv(tmp_path / "facts.csv", FACT_HEADER, rows)
    with transaction(town) as session, pytest.raises(InputError) as refused:
        import_facts("T23", path, session=session, actor="bt.b1", today=TODAY, within=B1)
    assert refused.value.lines() == [
        "facts.csv, row 3, column unit: 'B2' is outside your unit B1",
        "facts.csv, row 4, column member: 'B2' is outside your unit B1",
    ]
    assert _count(town) == 0
    with transaction(town) as session:  # the same file, imported by the CLI (no unit bound)
        done = import_facts("T23", path, session=session, actor="cli", today=TODAY)
    assert (done.recorded, _count(town)) == (3, 3)


def test_rows_already_read_are_checked_and_recorded_like_a_file(town: Engine) -> None:
    headers = {c.key: c.header for c in FACT_COLUMNS}
    cells = {"kind": "session_held", "unit": "B1", "member": "", "note": ""}
    bad = Sheet("biểu mẫu", headers, [SheetRow(2, {**cells, "date": "31/02/2023"})])
    with transaction(town) as session, pytest.raises(InputError) as refused:
        import_facts("T23", bad, session=session, actor="bt.b1", today=TODAY, within=B1)
    assert refused.value.lines()[0].startswith("biểu mẫu, row 2, column Ngày: is not a date")
    good = Sheet("biểu mẫu", headers, [SheetRow(2, {**cells, "date": "10/03/2023"})])
    for recorded in (1, 0):  # the second time: already recorded
        with transaction(town) as session:
            done = import_facts("T23", good, session=session, actor="bt.b1", today=TODAY, within=B1)
        assert (done.recorded, done.already_recorded) == (recorded, 1 - recorded)
    assert _count(town) == 1
