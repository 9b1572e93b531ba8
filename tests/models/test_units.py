"""Importing the organisation tree."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from models.db import transaction
from models.errors import InputError
from models.units import Unit, import_units
from tests.files import TOWN_UNITS, UNIT_HEADER, UNIT_HEADER_VI, write_csv, write_xlsx


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
    from models.members import import_members
    from tests.files import MEMBER_HEADER, TOWN_MEMBERS

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
