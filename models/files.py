"""Reading tabular input files (CSV in UTF-8, XLSX) whose headers are English keys or the
Vietnamese headers of the operator contract."""

import csv
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from models.errors import InputError, Problem


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
        yield from csv.reader(unicodedata.normalize("NFC", line) for line in handle)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
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
    """Read `path` (CSV or XLSX); raise InputError if it cannot be read or lacks a column."""
    name = path.name
    try:
        raw = _raw_rows(path)
        header = next(raw, None)
        if header is None:
            raise InputError([Problem(name, None, None, "the file is empty")])
        index = _map_header(name, header, columns)
        headers = {key: header[position].strip() for position, key in index.items()}
        nul: list[tuple[int, str]] = []
        rows = list(_rows(raw, index, nul))
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        raise InputError([Problem(name, None, None, f"cannot read the file: {exc}")]) from exc
    except Exception as exc:  # openpyxl raises a zoo of errors on a damaged workbook
        raise InputError([Problem(name, None, None, f"not a readable file: {exc}")]) from exc
    sheet = Sheet(name, headers, rows)
    if nul:  # refused on every backend alike: PostgreSQL's text cannot hold it
        raise InputError([sheet.problem(row, key, NUL) for row, key in nul])
    return sheet


NUL = "contains a NUL character (\\x00), which no column can hold: remove it"


def _rows(
    raw: Iterator[list[str]], index: dict[int, str], nul: list[tuple[int, str]]
) -> Iterator[SheetRow]:
    """The data rows that hold anything, their cells stripped, a short row padded; the (row,
    key) of every cell holding a NUL character go to `nul`."""
    items = list(index.items())
    width = max(index, default=-1) + 1
    for number, values in enumerate(raw, start=2):
        text = "".join(values)
        if not text.strip():
            continue
        if len(values) < width:
            values = values + [""] * (width - len(values))
        cells = {key: values[position].strip() for position, key in items}
        if "\x00" in text:
            nul += [(number, key) for key, value in cells.items() if "\x00" in value]
        yield SheetRow(number, cells)
