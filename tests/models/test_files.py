"""Reading input files: what cannot be read, or is too large, is refused by name, row and
column before it costs minutes or gigabytes."""

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from campaign.intake.unit_tree import UNIT_COLUMNS
from models.errors import InputError, Problem, Problems
from models.files import read_sheet
from models.settings import get_settings
from tests.input_files import TOWN_UNITS, UNIT_HEADER, write_csv, write_xlsx


def _refused(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_sheet(path, UNIT_COLUMNS)
    return caught.value.lines()


@pytest.fixture
def limits() -> Iterator[object]:
    """The process's settings, whose limits a test may lower; restored after it."""
    settings = get_settings()
    saved = settings.model_dump()
    yield settings
    for key, value in saved.items():
        setattr(settings, key, value)


def test_a_file_in_another_encoding_names_its_first_bad_row(tmp_path: Path) -> None:
    """Saved by a legacy Windows editor: the header plain ASCII, then 'é' in Windows-1252."""
    path = tmp_path / "units.csv"
    header = b"code,name,kind,parent\r\n"
    good = "LAGI,Thị ủy La Gi,district,\r\n".encode()
    path.write_bytes(header + good + b"G1,Caf\xe9 ward,grassroots,LAGI\r\n" + good * 5000)
    assert _refused(path) == [
        "units.csv, row 3: is not UTF-8 text: save the file as UTF-8 (in Excel: CSV UTF-8)"
    ]


def test_a_megabyte_field_names_its_row_and_column(tmp_path: Path) -> None:
    rows = [*TOWN_UNITS, ["B9", "x" * (1 << 20), "branch", "G1"]]
    lines = _refused(write_csv(tmp_path / "units.csv", UNIT_HEADER, rows))
    assert lines == [
        "units.csv, row 7, column name: is 1,048,576 characters long, more than a cell may "
        "hold (1,000)"
    ]


def test_a_field_beyond_csvs_own_limit_names_its_row(tmp_path: Path) -> None:
    rows = [*TOWN_UNITS, ["B9", "x" * (17 << 20), "branch", "G1"]]
    lines = _refused(write_csv(tmp_path / "units.csv", UNIT_HEADER, rows))
    assert len(lines) == 1 and lines[0].startswith("units.csv, row 7: cannot read: field larger")


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, limits: object
) -> None:
    path = write_csv(tmp_path / "units.csv", UNIT_HEADER, TOWN_UNITS * 100)
    get_settings().max_file_bytes = 10_000
    (line,) = _refused(path)
    size = path.stat().st_size
    assert line == f"units.csv: the file is {size:,} bytes, more than the 10,000 bytes allowed"


def test_rows_past_the_limit_are_refused_at_the_first_one_too_many(
    tmp_path: Path, limits: object
) -> None:
    get_settings().max_rows = 4
    path = write_xlsx(tmp_path / "units.xlsx", UNIT_HEADER, TOWN_UNITS)
    assert _refused(path) == ["units.xlsx, row 6: the file holds more than the 4 rows allowed"]
    csv_path = write_csv(tmp_path / "units.csv", UNIT_HEADER, TOWN_UNITS)
    assert _refused(csv_path) == ["units.csv, row 6: the file holds more than the 4 rows allowed"]


def test_a_file_named_xlsx_that_is_no_zip_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "units.xlsx"
    path.write_text("code,name,kind\n", encoding="utf-8")
    assert _refused(path) == ["units.xlsx: is not an XLSX file (not a zip archive)"]


def test_a_shared_strings_bomb_is_refused_before_openpyxl_opens_it(tmp_path: Path) -> None:
    # 64 MiB of one repeated string compresses ~1,000 times: a bomb's signature
    bomb = _with_shared_strings(tmp_path, b"<si><t>" + b"A" * (64 << 20) + b"</t></si>")
    (line,) = _refused(bomb)
    assert line.startswith("units.xlsx: its part xl/sharedStrings.xml unzips ") and line.endswith(
        "refused as a zip bomb"
    ), line


def test_an_xlsx_too_large_once_unzipped_is_refused(tmp_path: Path, limits: object) -> None:
    path = write_xlsx(tmp_path / "units.xlsx", UNIT_HEADER, TOWN_UNITS)
    get_settings().max_xlsx_unzipped_bytes = 1_000
    (line,) = _refused(path)
    assert line.startswith("units.xlsx: unzipped, the workbook is ") and "allowed" in line


def test_a_real_workbook_passes_the_checks(tmp_path: Path) -> None:
    sheet = read_sheet(write_xlsx(tmp_path / "u.xlsx", UNIT_HEADER, TOWN_UNITS), UNIT_COLUMNS)
    assert [r.cells["code"] for r in sheet.rows] == [r[0] for r in TOWN_UNITS]


def test_a_refusal_lists_the_first_hundred_problems_and_counts_the_rest() -> None:
    listed = [Problem("m.csv", row, "code", "is empty") for row in range(2, 250_002)]
    lines = InputError(listed).lines()
    assert len(lines) == 101 and lines[0] == "m.csv, row 2, column code: is empty"
    assert lines[-1] == "… and 249,900 more errors"
    counted = Problems()
    counted += reversed(listed)
    counted.append(Problem("m.csv", 1, None, "first"))
    assert len(counted) == 250_001 and list.__len__(counted) == Problems.KEPT
    lines = InputError(counted).lines()
    assert len(lines) == 101 and lines[-1] == "… and 249,901 more errors"


def test_a_workbook_named_csv_is_refused_by_name(tmp_path: Path) -> None:
    workbook = write_xlsx(tmp_path / "u.xlsx", UNIT_HEADER, TOWN_UNITS)
    renamed = tmp_path / "units.csv"
    renamed.write_bytes(workbook.read_bytes())
    assert _refused(renamed) == [
        "units.csv: is not a CSV file: it is a zip archive, an XLSX workbook perhaps "
        "(name it .xlsx)"
    ]
    old = tmp_path / "old.csv"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    assert _refused(old) == [
        "old.csv: is not a CSV file: it is an old Excel workbook (.xls): save it as XLSX or "
        "CSV UTF-8"
    ]


def test_a_zip_holding_no_workbook_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "units.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert _refused(path) == ["units.xlsx: is not an XLSX file (a zip archive holding no workbook)"]


def test_shared_strings_larger_than_the_limit_are_refused(tmp_path: Path, limits: object) -> None:
    path = _with_shared_strings(tmp_path, b"<si><t>Chi bo</t></si>" * 100)
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo("xl/sharedStrings.xml").file_size
    get_settings().max_xlsx_strings_bytes = 1_000
    assert _refused(path) == [
        f"units.xlsx: unzipped, its shared strings (xl/sharedStrings.xml) are {size:,} bytes, "
        "more than the 1,000 bytes allowed"
    ]


def _with_shared_strings(tmp_path: Path, items: bytes) -> Path:
    """The town's units as a workbook, with a shared-strings part holding `items`."""
    path = write_xlsx(tmp_path / "plain.xlsx", UNIT_HEADER, TOWN_UNITS)
    target = tmp_path / "units.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item.filename))
        namespace = b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        out.writestr("xl/sharedStrings.xml", b"<sst xmlns=" + namespace + b">" + items + b"</sst>")
    return target
