"""Importing the organisation tree."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from campaign.intake.unit_tree import import_units
from models.db import transaction
from models.errors import InputError
from models.units import Unit
from tests.input_files import TOWN_UNITS, UNIT_HEADER, UNIT_HEADER_VI, write_csv, write_xlsx


def _load(engine: Engine, path: Path) -> None:
    with transaction(engine) as session:
        import_units(path, session=session)


def _units(engine: Engine) -> dict[str, tuple[str, str, str, bool]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Unit.code, Unit.name, Unit.kind, Unit.path, Unit.holds_members)
        )
        return {r.code: (r.name, r.kind, r.path, r.holds_members) for r in rows}


def _refused(engine: Engine, path: Path) -> list[str]:
    before = _units(engine)
    with pytest.raises(InputError) as caught:
        _load(engine, path)
    assert _units(engine) == before, "a refused file must store nothing"
    return caught.value.lines()


def test_xlsx_with_vietnamese_headers_imports_the_tree(engine: Engine, tmp_path: Path) -> None:
    _load(engine, write_xlsx(tmp_path / "units.xlsx", UNIT_HEADER_VI, TOWN_UNITS))
    units = _units(engine)
    assert units["B2"] == ("Chi bộ khu phố 2", "branch", "/LAGI/G1/B2/", True)
    assert units["G1"][3] is False, "a grassroots organisation with branches holds no members"
    assert units["G2"][3] is True, "a chi bộ cơ sở holds its members directly"


def test_second_import_updates_by_code(engine: Engine, tmp_path: Path) -> None:
    _load(engine, write_csv(tmp_path / "u.csv", UNIT_HEADER, TOWN_UNITS))
    changed = [*TOWN_UNITS, ["G3", "Đảng bộ xã Tân Hải", "grassroots", "LAGI"]]
    changed[3] = ["B2", "Chi bộ khu phố 2 (mới)", "branch", "G3"]
    _load(engine, write_csv(tmp_path / "u2.csv", UNIT_HEADER, changed))
    units = _units(engine)
    assert units["B2"][:3] == ("Chi bộ khu phố 2 (mới)", "branch", "/LAGI/G3/B2/")
    assert units["G3"][3] is False and len(units) == 6


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (["B9", "Chi bộ 9", "branch", "NOPE"], "row 7, column parent: unknown unit 'NOPE'"),
        (["B1", "Chi bộ trùng", "branch", "G1"], "row 7, column code: duplicate code 'B1'"),
        (["B9", "Chi bộ 9", "cell", "G1"], "row 7, column kind: Input should be"),
        (["", "Chi bộ 9", "branch", "G1"], "row 7, column code: is empty"),
        (["B9", "Chi bộ 9", "branch", ""], "row 7, column parent: a branch needs a parent"),
        (["G9", "Đảng bộ 9", "grassroots", "B1"], "row 7, column kind: a grassroots cannot sit"),
    ],
)
def test_a_bad_row_refuses_the_whole_file(
    engine: Engine, tmp_path: Path, row: list[str], expected: str
) -> None:
    path = write_csv(tmp_path / "units.csv", UNIT_HEADER, [*TOWN_UNITS, row])
    lines = _refused(engine, path)
    assert any(line.startswith(f"units.csv, {expected}") for line in lines), lines


def test_a_cycle_is_refused(engine: Engine, tmp_path: Path) -> None:
    _load(engine, write_csv(tmp_path / "u.csv", UNIT_HEADER, TOWN_UNITS))
    cycle = [["X1", "Khối 1", "province", "X2"], ["X2", "Khối 2", "province", "X1"]]
    lines = _refused(engine, write_csv(tmp_path / "cycle.csv", UNIT_HEADER, cycle))
    assert any("row 2, column parent" in line and "cycle" in line for line in lines), lines


def test_a_unit_holding_members_cannot_gain_a_branch(engine: Engine, tmp_path: Path) -> None:
    from campaign.intake.member_roster import import_members
    from tests.input_files import MEMBER_HEADER, TOWN_MEMBERS

    _load(engine, write_csv(tmp_path / "u.csv", UNIT_HEADER, TOWN_UNITS))
    with transaction(engine) as session:
        path = write_csv(tmp_path / "m.csv", MEMBER_HEADER, TOWN_MEMBERS)
        import_members(path, session=session, on=date(2023, 1, 1))
    under_g2 = [["B9", "Chi bộ mới", "branch", "G2"]]
    lines = _refused(engine, write_csv(tmp_path / "more.csv", UNIT_HEADER, under_g2))
    assert lines == [
        "more.csv, row 2, column parent: 'G2' holds members directly and cannot have units under it"
    ]


def test_a_missing_column_is_named(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "units.csv", ["code", "name"], [["A", "B"]])
    assert _refused(engine, path) == ["units.csv, row 1: missing column 'kind' (Loại)"]


@pytest.mark.parametrize(
    "code",
    ["../../x", "/etc/x", "..", ".hidden", "a/b", "a\\b", "-rf", "B 1", "Chi-bộ", "=cmd|' /C"],
)
def test_a_code_outside_the_safe_alphabet_is_refused_by_row_and_column(
    engine: Engine, tmp_path: Path, code: str
) -> None:
    path = write_csv(
        tmp_path / "units.csv", UNIT_HEADER, [*TOWN_UNITS, [code, "X", "branch", "G1"]]
    )
    assert _refused(engine, path) == [
        "units.csv, row 7, column code: may hold only ASCII letters, digits, '-', '_' and '.', "
        f"and begins with a letter or digit (got '{code}')"
    ]


def test_codes_of_letters_digits_dashes_underscores_and_dots_are_taken(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [*TOWN_UNITS, ["B1.a_2-x", "Chi bộ 3", "branch", "G1"]]
    _load(engine, write_csv(tmp_path / "units.csv", UNIT_HEADER, rows))
    assert _units(engine)["B1.a_2-x"][2] == "/LAGI/G1/B1.a_2-x/"


def test_codes_and_names_longer_than_their_columns_are_refused_on_every_backend(
    engine: Engine, tmp_path: Path
) -> None:
    """SQLite would store them, PostgreSQL refuse the whole transaction with no row: both
    refuse them here, by row and column, at the columns' own lengths."""
    rows = [
        *TOWN_UNITS,
        ["B" * 65, "Chi bộ", "branch", "G1"],
        ["B9", "Chi bộ " + "x" * 249, "branch", "G1"],
        ["B8", "Chi bộ", "branch", "G" * 65],
    ]
    assert _refused(engine, write_csv(tmp_path / "units.csv", UNIT_HEADER, rows)) == [
        "units.csv, row 7, column code: is 65 characters long, at most 64",
        "units.csv, row 8, column name: is 256 characters long, at most 255",
        "units.csv, row 9, column parent: is 65 characters long, at most 64",
    ]
    longest = [*TOWN_UNITS, ["B" * 64, "x" * 255, "branch", "G1"]]
    _load(engine, write_csv(tmp_path / "ok.csv", UNIT_HEADER, longest))
    assert _units(engine)["B" * 64][0] == "x" * 255
