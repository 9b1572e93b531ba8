"""CSV files written a row at a time, and facts sorted by date without holding them all: what
lets the generator write a nation of millions of members in bounded memory."""

import csv
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from campaign.exports import spreadsheet_cell


class CsvRows:
    """A CSV file written a row at a time, every cell made safe for a spreadsheet."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self._handle = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(header)

    def add(self, row: list[str]) -> None:
        self._writer.writerow([spreadsheet_cell(cell) for cell in row])

    def __enter__(self) -> "CsvRows":
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


class FactsByDate:
    """The facts, kept in a file per date in a temporary folder of `out` until `write` sorts
    each date's rows by unit and member (stably: as the whole file sorted by date, unit, member)."""

    def __init__(self, out: Path) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix=".facts-", dir=out))
        self._days: dict[str, tuple[IO[str], Any]] = {}
        self.count = 0

    def add(self, row: list[str]) -> None:
        if (day := self._days.get(row[0])) is None:
            handle = (self._folder / row[0]).open("w", newline="", encoding="utf-8")
            day = self._days[row[0]] = (handle, csv.writer(handle, lineterminator="\n"))
        day[1].writerow(row)
        self.count += 1

    def write(self, sink: CsvRows) -> None:
        for date in sorted(self._days):
            self._days.pop(date)[0].close()
            with (self._folder / date).open(newline="", encoding="utf-8") as handle:
                rows = sorted(csv.reader(handle), key=lambda r: (r[2], r[3]))
            for row in rows:
                sink.add(row)
            (self._folder / date).unlink()

    def __enter__(self) -> "FactsByDate":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for handle, _ in self._days.values():
            handle.close()
        shutil.rmtree(self._folder, ignore_errors=True)
