"""The members import at size: streamed through a staging table, refused whole."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from campaign.intake.member_roster import import_members
from campaign.intake.unit_tree import import_units
from models.audit import AuditEvent
from models.db import transaction
from models.errors import InputError
from models.members import Member, MemberChange
from tests.input_files import (
    MEMBER_HEADER,
    MEMBER_HEADER_VI,
    TOWN_UNITS,
    UNIT_HEADER,
    write_csv,
    write_xlsx,
)

ON = date(2023, 3, 1)
ROWS = 4_000


@pytest.fixture
def town(engine: Engine, tmp_path: Path) -> Engine:
    """A database holding the small town's units."""
    with transaction(engine) as session:
        import_units(write_csv(tmp_path / "units.csv", UNIT_HEADER, TOWN_UNITS), session=session)
    return engine


def _members(count: int) -> list[list[str]]:
    return [
        [f"M{n:05d}", f"Đảng viên {n}", ("B1", "B2", "G2")[n % 3], "no", "", "active"]
        for n in range(count)
    ]


def _stored(engine: Engine) -> tuple[int, int, int]:
    """How many members, kept changes and audit events are stored."""
    with transaction(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Member)) or 0,
            session.scalar(select(func.count()).select_from(MemberChange)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_a_large_file_bad_near_its_end_stores_nothing(town: Engine, tmp_path: Path) -> None:
    """Thousands of good rows, then a few bad ones near the end: nothing of the file is stored
    (its staged rows and the members written before the checks are rolled back), and every
    problem is named by file, row and column, in row order."""
    rows = _members(ROWS)
    rows[-40][3] = "maybe"  # a bad cell: refused as the row is read
    rows[-30][0] = rows[5][0]  # a repeated code: found over the staged rows
    rows[-20][2] = "NOWHERE"  # an unknown unit: found over the staged rows
    rows[-10][2] = "G1"  # a unit holding units, not members
    before = _stored(town)
    with pytest.raises(InputError) as caught, transaction(town) as session:
        import_members(write_csv(tmp_path / "m.csv", MEMBER_HEADER, rows), session=session, on=ON)
    assert _stored(town) == before
    last = ROWS + 1  # the file's last row, the header being row 1
    assert caught.value.lines() == [
        f"m.csv, row {last - 39}, column leader: "
        "must be yes/no, có/không, 1/0 or true/false (got 'maybe')",
        f"m.csv, row {last - 29}, column code: duplicate code 'M00005' (row 7)",
        f"m.csv, row {last - 19}, column unit: unknown unit 'NOWHERE'",
        f"m.csv, row {last - 9}, column unit: 'G1' has units under it and holds no members",
    ]


def test_a_refusal_caught_and_committed_stores_nothing(town: Engine, tmp_path: Path) -> None:
    """A caller that catches the refusal and commits its transaction stores none of the file:
    the import's own savepoint is rolled back, staging table and all."""
    rows = _members(ROWS)
    rows[-1][2] = "NOWHERE"
    path = write_csv(tmp_path / "m.csv", MEMBER_HEADER, rows)
    before = _stored(town)
    with transaction(town) as session, pytest.raises(InputError):
        import_members(path, session=session, on=ON)
    assert _stored(town) == before
    rows[-1][2] = "B1"  # the same file put right imports in the same way, whole
    with transaction(town) as session:
        summary = import_members(
            write_csv(tmp_path / "m2.csv", MEMBER_HEADER, rows), session=session, on=ON
        )
    assert (summary.rows, summary.created) == (ROWS, ROWS)
    assert _stored(town)[0] == ROWS


def test_many_problems_are_listed_bounded_and_counted(town: Engine, tmp_path: Path) -> None:
    """Every row repeating a code is a problem; the first hundred are listed, all counted."""
    rows = _members(ROWS) + _members(ROWS)
    path = write_csv(tmp_path / "m.csv", MEMBER_HEADER, rows)
    with pytest.raises(InputError) as caught, transaction(town) as session:
        import_members(path, session=session, on=ON)
    lines = caught.value.lines()
    assert caught.value.total == ROWS
    assert lines[0] == f"m.csv, row {ROWS + 2}, column code: duplicate code 'M00000' (row 2)"
    assert len(lines) == InputError.SHOWN + 1 and lines[-1].endswith(f"{ROWS - 100:,} more errors")


def test_an_xlsx_roster_is_streamed_and_imported_twice_alike(town: Engine, tmp_path: Path) -> None:
    """An XLSX roster (read in openpyxl's read-only mode) imports; again, it changes nothing and
    appends no event."""
    path = write_xlsx(tmp_path / "m.xlsx", MEMBER_HEADER_VI, _members(500))  # type: ignore[arg-type]
    with transaction(town) as session:
        first = import_members(path, session=session, on=ON)
    stored = _stored(town)
    with transaction(town) as session:
        again = import_members(path, session=session, on=date(2023, 3, 2))
    assert (first.created, again.created, again.updated, again.unchanged) == (500, 0, 0, 500)
    assert _stored(town) == stored
