"""One parser for the days people write: DD/MM/YYYY or ISO."""

import datetime as dt

import pytest

from models.dates import parse_day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("15/03/2023", dt.date(2023, 3, 15)),
        ("5/3/2023", dt.date(2023, 3, 5)),
        ("2023-03-15", dt.date(2023, 3, 15)),
        ("29/02/2024", dt.date(2024, 2, 29)),
    ],
)
def test_a_day_written_either_way_is_read(text: str, day: dt.date) -> None:
    assert parse_day(text) == day


@pytest.mark.parametrize(
    "text",
    [
        "",
        "15/03",
        "15/03/2023/1",
        "30/02/2023",
        "2023-02-30",
        "15-03-2023",
        "x/y/z",
        "1/1/99999999999999999999",
        "0",
    ],
)
def test_anything_else_is_refused_with_the_text_and_the_formats(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_day(text)
    assert str(refused.value) == f"'{text}' is not a date (YYYY-MM-DD or DD/MM/YYYY)"


def test_a_facts_row_reads_its_day_by_the_same_parser() -> None:
    from pydantic import ValidationError

    from models.facts import FactRow

    row = {"kind": "plan_issued", "unit": "G1"}
    assert FactRow.model_validate({**row, "date": "5/3/2023"}).date == parse_day("5/3/2023")
    # ISO, and a datetime at midnight, are read by pydantic as a facts file always was.
    assert FactRow.model_validate({**row, "date": "2023-02-10T00:00:00"}).date == dt.date(
        2023, 2, 10
    )
    with pytest.raises(ValidationError, match=r"is not a date \(YYYY-MM-DD or DD/MM/YYYY\)"):
        FactRow.model_validate({**row, "date": "31/02/2023"})
