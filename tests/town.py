"""A small hand-made town: its units, members and plan, loaded into a test's database."""

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import Engine

from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from models.db import transaction
from tests.input_files import MEMBER_HEADER, UNIT_HEADER, write_csv

PLANS = Path(__file__).parents[1] / "plans"
UNITS = [
    ["TOWN", "Thị ủy Thử Nghiệm", "district", ""],
    ["G1", "Đảng bộ phường Tân An", "grassroots", "TOWN"],
    ["B1", "Chi bộ khu phố 1", "branch", "G1"],
    ["B2", "Chi bộ khu phố 2", "branch", "G1"],
    ["G2", "Chi bộ Trường THCS Nguyễn Du", "grassroots", "TOWN"],
]
MEMBERS = [
    ["M1", "Nguyễn Văn An", "B1", "yes", "Bí thư chi bộ", "active"],
    ["M2", "Trần Thị Bình", "B1", "no", "", "active"],
    ["M3", "Lê Hữu Cường", "B1", "no", "", "exempt"],
    ["M4", "Phạm Thị Dung", "B2", "no", "", "active"],
    ["M5", "Hoàng Minh Đức", "B2", "no", "", "transferred_out"],
    ["M6", "Võ Thị Hà", "G2", "yes", "Hiệu trưởng", "active"],
    ["M7", "Đặng Văn Hùng", "G2", "no", "", "active"],
]


def plan_for(tmp_path: Path, source: str, **changes: object) -> Path:
    """A seed plan rewritten for the test town."""
    data = yaml.safe_load((PLANS / source).read_text(encoding="utf-8"))
    data.update(owner="TOWN", **changes)
    path = tmp_path / source
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def load_town(engine: Engine, folder: Path) -> Engine:
    """Load the test town into `engine`, with the La Gi 2023 plan registered as campaign T23."""
    with transaction(engine) as session:
        import_units(write_csv(folder / "units.csv", UNIT_HEADER, UNITS), session=session)
        import_members(
            write_csv(folder / "members.csv", MEMBER_HEADER, MEMBERS),
            session=session,
            on=dt.date(2023, 1, 30),
        )
        register_plan(plan_for(folder, "la-gi-2023.yaml", code="T23"), session=session)
    return engine
