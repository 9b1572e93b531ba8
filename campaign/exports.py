"""What the engine writes for people to open: files that stay inside the folder they were
asked for, and CSV whose cells a spreadsheet shows as text, never runs as a formula."""

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from models.errors import OutsideFolder

# A spreadsheet reads a cell beginning with one of these as a formula (OWASP, CSV injection):
# '=cmd|' /C calc'!A0', '=HYPERLINK("http://…")'; '-' and '+' too, '@' in Excel, and a tab
# or carriage return before any of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inside(folder: Path, *parts: str) -> Path:
    """`folder/parts…`, refused unless it resolves inside `folder` (a part holding '..' or '/',
    an absolute path, a symbolic link leading out)."""
    path = folder.joinpath(*parts)
    root = folder.resolve()
    resolved = path.resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise OutsideFolder(
            f"'{'/'.join(parts)}' would be written outside {folder} (at {resolved}): refused, "
            "nothing written there"
        )
    return path


def spreadsheet_cell(value: object) -> object:
    """A cell as a spreadsheet must show it: text beginning like a formula gets a leading
    apostrophe, which shows it as text; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(
    handle: IO[str], header: list[str], rows: Iterable[Iterable[object]], **options: str
) -> None:
    """Write `header` and `rows` to `handle` as CSV, every cell made safe for a spreadsheet."""
    writer = csv.writer(handle, **options)  # type: ignore[arg-type]
    writer.writerow(header)
    writer.writerows([spreadsheet_cell(cell) for cell in row] for row in rows)


def csv_dicts(
    handle: IO[str], fields: list[str], rows: Iterable[Mapping[str, object]], **options: str
) -> None:
    """Write `rows` (dicts of `fields`) to `handle` as CSV with a header, every cell made
    safe for a spreadsheet."""
    csv_rows(handle, fields, ([row.get(f) for f in fields] for row in rows), **options)
