"""Reading tabular input files (CSV in UTF-8, XLSX) whose headers are English keys or the
Vietnamese headers of the operator contract."""

import csv
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from models.errors import InputError, Problem
from models.settings import get_settings


@dataclass(frozen=True)
class Column:
    """A column of an input file: its English key, its Vietnamese header, and if required."""

    key: str
    header: str
    required: bool = True


@dataclass(frozen=True)
class SheetRow:
    """One data row: its number as a spreadsheet shows it, and its cells by key."""

    number: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Sheet:
    """A read input file: its name, how each key was written in the header, and its rows."""

    name: str
    headers: dict[str, str]
    rows: list[SheetRow]

    def problem(self, row: int | None, key: str | None, message: str) -> Problem:
        """A problem at `row` in the column of `key`, named as the file's header names it."""
        return Problem(self.name, row, self.headers.get(key, key) if key else None, message)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _raw_rows(path: Path) -> Iterator[list[str]]:
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        yield from _xlsx_rows(path)
        return
    # Vietnamese text composed one way (NFC) whatever the editor wrote: a line at a time, which
    # equals cell by cell (no delimiter composes with a combining mark) and streams the file.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        records = csv.reader(unicodedata.normalize("NFC", line) for line in handle)
        row = 0  # the records read so far: the header is row 1
        try:
            for values in records:
                row += 1
                yield values
        except csv.Error as exc:  # a field longer than csv's limit, a stray quote …
            raise InputError([Problem(path.name, row + 1, None, f"cannot read: {exc}")]) from exc
        except UnicodeDecodeError as exc:
            raise InputError([Problem(path.name, _undecodable_line(path), None, NOT_UTF8)]) from exc


NOT_UTF8 = "is not UTF-8 text: save the file as UTF-8 (in Excel: CSV UTF-8)"

# csv's own limit (128 KiB a field) names no row: ours is checked cell by cell, by row and
# column; csv's is only a backstop against a field that would fill the memory.
csv.field_size_limit(16 << 20)


def _undecodable_line(path: Path) -> int:
    """The number of the file's first line that is not UTF-8."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def _check_size(path: Path) -> None:
    """Refuse a file larger than the settings allow, or an XLSX that is not one or would
    unzip into more than it may (a zip bomb), before anything reads it."""
    settings = get_settings()
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        raise InputError(
            [
                Problem(
                    path.name, None, None, _too_large("the file is", size, settings.max_file_bytes)
                )
            ]
        )
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        _check_xlsx(path)
        return
    with path.open("rb") as handle:
        start = handle.read(8)
    for magic, what in _NOT_CSV.items():
        if start.startswith(magic):
            raise InputError([Problem(path.name, None, None, f"is not a CSV file: {what}")])


# What a file named .csv may really be, by its first bytes.
_NOT_CSV = {
    b"PK\x03\x04": "it is a zip archive, an XLSX workbook perhaps (name it .xlsx)",
    b"\xd0\xcf\x11\xe0": "it is an old Excel workbook (.xls): save it as XLSX or CSV UTF-8",
}


def _check_xlsx(path: Path) -> None:
    settings = get_settings()
    if not zipfile.is_zipfile(path):
        raise InputError(
            [Problem(path.name, None, None, "is not an XLSX file (not a zip archive)")]
        )
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
    if "xl/workbook.xml" not in {part.filename for part in parts}:
        message = "is not an XLSX file (a zip archive holding no workbook)"
        raise InputError([Problem(path.name, None, None, message)])
    total = sum(part.file_size for part in parts)
    if total > settings.max_xlsx_unzipped_bytes:
        message = _too_large("unzipped, the workbook is", total, settings.max_xlsx_unzipped_bytes)
        raise InputError([Problem(path.name, None, None, message)])
    # openpyxl reads a workbook's shared strings whole, even in read-only mode.
    strings = sum(p.file_size for p in parts if p.filename == "xl/sharedStrings.xml")
    if strings > settings.max_xlsx_strings_bytes:
        what = "unzipped, its shared strings (xl/sharedStrings.xml) are"
        message = _too_large(what, strings, settings.max_xlsx_strings_bytes)
        raise InputError([Problem(path.name, None, None, message)])
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > 1 << 20 and ratio > settings.max_xlsx_ratio:
            message = (
                f"its part {part.filename} unzips {ratio:,.0f} times larger than it is stored "
                f"(a spreadsheet's parts, about 12 times; at most {settings.max_xlsx_ratio}): "
                "refused as a zip bomb"
            )
            raise InputError([Problem(path.name, None, None, message)])


def _too_large(what: str, size: int, limit: int) -> str:
    return f"{what} {_bytes(size)}, more than the {_bytes(limit)} allowed"


def _bytes(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MiB" if size >= 1 << 20 else f"{size:,} bytes"


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        # The rows as they are in the file, not as its <dimension> claims (a claimed A1:XFD1048576
        # would pad every row to 16,384 cells and add a million empty rows).
        sheet.reset_dimensions()
        for values in sheet.iter_rows(values_only=True):
            yield ["" if v is None else unicodedata.normalize("NFC", _cell_text(v)) for v in values]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    from datetime import date, datetime

    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _map_header(sheet_name: str, header: list[str], columns: list[Column]) -> dict[int, str]:
    aliases: Mapping[str, str] = {
        **{_fold(c.key): c.key for c in columns},
        **{_fold(c.header): c.key for c in columns},
    }
    index: dict[int, str] = {}
    problems: list[Problem] = []
    for position, text in enumerate(header):
        key = aliases.get(_fold(text))
        if key is None:
            continue
        if key in index.values():
            problems.append(Problem(sheet_name, 1, text, f"column '{key}' appears twice"))
        index[position] = key
    for column in columns:
        if column.required and column.key not in index.values():
            problems.append(
                Problem(sheet_name, 1, None, f"missing column '{column.key}' ({column.header})")
            )
    if problems:
        raise InputError(problems)
    return index


def read_sheet(path: Path, columns: list[Column]) -> Sheet:
    """Read `path` (CSV or XLSX); raise InputError if it cannot be read, is too large or lacks
    a column, or names every cell too long or holding a NUL."""
    sheet, rows = stream_sheet(path, columns)
    return Sheet(sheet.name, sheet.headers, list(rows))


def stream_sheet(path: Path, columns: list[Column]) -> tuple[Sheet, Iterator[SheetRow]]:
    """Open `path` (CSV or XLSX) and read its header: the sheet (its rows left empty) and its
    data rows, read from the file as they are iterated (a national roster is not held whole).

    A file that cannot be opened, is too large or lacks a column is refused here; one that
    turns out unreadable midway is refused while iterating; the cells too long or holding a
    NUL are refused, all of them, when the rows are done (as `read_sheet` refuses them)."""
    name = path.name
    with _translated(name):
        _check_size(path)
        raw = _raw_rows(path)
        header = next(raw, None)
        if header is None:
            raise InputError([Problem(name, None, None, "the file is empty")])
        index = _map_header(name, header, columns)
    sheet = Sheet(name, {key: header[position].strip() for position, key in index.items()}, [])
    return sheet, _checked_rows(sheet, raw, index)


def _checked_rows(
    sheet: Sheet, raw: Iterator[list[str]], index: dict[int, str]
) -> Iterator[SheetRow]:
    bad: list[tuple[int, str, str]] = []
    with _translated(sheet.name):
        yield from _rows(sheet.name, raw, index, bad)
    if bad:  # refused on every backend alike: PostgreSQL's text cannot hold a NUL
        raise InputError([sheet.problem(row, key, message) for row, key, message in bad])


@contextmanager
def _translated(name: str) -> Iterator[None]:
    """Any error of reading the file as an InputError naming it."""
    try:
        yield
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        raise InputError([Problem(name, None, None, f"cannot read the file: {exc}")]) from exc
    except Exception as exc:  # openpyxl raises a zoo of errors on a damaged workbook
        raise InputError([Problem(name, None, None, f"not a readable file: {exc}")]) from exc


NUL = "contains a NUL character (\\x00), which no column can hold: remove it"


def _rows(
    name: str, raw: Iterator[list[str]], index: dict[int, str], bad: list[tuple[int, str, str]]
) -> Iterator[SheetRow]:
    """The data rows that hold anything, their cells stripped, a short row padded; the (row,
    key, problem) of every cell holding a NUL character or too long go to `bad`. A file
    longer than the settings allow is refused at the first row too many."""
    settings = get_settings()
    longest, last = settings.max_cell_chars, settings.max_rows + 1
    items = list(index.items())
    width = max(index, default=-1) + 1
    for number, values in enumerate(raw, start=2):
        if number > last:
            message = f"the file holds more than the {settings.max_rows:,} rows allowed"
            raise InputError([Problem(name, number, None, message)])
        text = "".join(values)
        if not text.strip():
            continue
        if len(values) < width:
            values = values + [""] * (width - len(values))
        cells = {key: values[position].strip() for position, key in items}
        if "\x00" in text:
            bad += [(number, key, NUL) for key, value in cells.items() if "\x00" in value]
        if len(text) > longest:
            bad += [
                (
                    number,
                    key,
                    f"is {len(value):,} characters long, more than a cell may hold ({longest:,})",
                )
                for key, value in cells.items()
                if len(value) > longest
            ]
            cells = {key: value[:longest] for key, value in cells.items()}
        yield SheetRow(number, cells)
