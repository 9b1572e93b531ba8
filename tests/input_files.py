"""Writing real input files (CSV, XLSX) for tests."""

import csv
from pathlib import Path

from openpyxl import Workbook


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write a UTF-8 CSV file with `header` and `rows`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """Write a one-sheet XLSX workbook with `header` and `rows`."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


TOWN_UNITS = [
    ["LAGI", "Thị ủy La Gi", "district", ""],
    ["G1", "Đảng bộ phường Tân An", "grassroots", "LAGI"],
    ["B1", "Chi bộ khu phố 1", "branch", "G1"],
    ["B2", "Chi bộ khu phố 2", "branch", "G1"],
    ["G2", "Chi bộ Trường THCS Nguyễn Du", "grassroots", "LAGI"],
]
UNIT_HEADER = ["code", "name", "kind", "parent"]
UNIT_HEADER_VI = ["Mã đơn vị", "Tên đơn vị", "Loại", "Đơn vị cấp trên"]
MEMBER_HEADER = ["code", "full_name", "unit", "leader", "position", "status"]
MEMBER_HEADER_VI = [
    "Mã đảng viên",
    "Họ và tên",
    "Chi bộ",
    "Lãnh đạo, quản lý",
    "Chức vụ",
    "Tình trạng",
]
TOWN_MEMBERS = [
    ["DV1", "Nguyễn Văn An", "B1", "có", "Bí thư chi bộ", "active"],
    ["DV2", "Trần Thị Bình", "B1", "không", "", "active"],
    ["DV3", "Lê Hữu Cường", "B2", "no", "", "exempt"],
    ["DV4", "Phạm Thị Dung", "G2", "yes", "Hiệu trưởng", "active"],
    ["DV5", "Hoàng Minh Đức", "G2", "0", "", "transferred_out"],
]
