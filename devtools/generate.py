"""Synthetic organisations shaped like real ones: a province (or a town) of grassroots
organisations and branches, a roster with Vietnamese names, a plan, and facts with realistic
behaviour (most units on time, some late, a few never). Deterministic for a seed."""

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from sqlalchemy import Engine

from campaign.exports import csv_rows, inside
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from models.db import transaction

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Xuân"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hạnh",
    "Hùng",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phương",
    "Quân",
    "Thảo",
    "Tuấn",
    "Vy",
    "Sơn",
    "Hải",
    "Trang",
    "Khánh",
]
DISTRICTS = [
    "Thị ủy La Gi",
    "Huyện ủy Đức Linh",
    "Huyện ủy Tánh Linh",
    "Huyện ủy Hàm Tân",
    "Huyện ủy Hàm Thuận Nam",
    "Huyện ủy Hàm Thuận Bắc",
    "Huyện ủy Bắc Bình",
    "Huyện ủy Tuy Phong",
    "Thành ủy Phan Thiết",
    "Huyện ủy Phú Quý",
]
COMMUNES = [
    "Tân Hải",
    "Tân An",
    "Phước Hội",
    "Bình Tân",
    "Tân Tiến",
    "Tân Phước",
    "Tân Bình",
    "Phước Lộc",
    "Thắng Hải",
    "Sơn Mỹ",
    "Tân Thắng",
    "Tân Đức",
    "Đông Hà",
    "Gia An",
]
AGENCIES = [
    "Trường THCS Nguyễn Du",
    "Trường THPT Lê Lợi",
    "Bệnh viện đa khoa khu vực",
    "Công an thị xã",
    "Ban Chỉ huy Quân sự",
    "Chi cục Thuế",
    "Kho bạc Nhà nước",
    "Trung tâm Y tế",
    "Phòng Giáo dục và Đào tạo",
    "Ngân hàng Chính sách xã hội",
]
LEADER_POSTS = [
    "Bí thư chi bộ",
    "Phó Bí thư chi bộ",
    "Chủ tịch UBND xã",
    "Trưởng phòng",
    "Hiệu trưởng",
    "Giám đốc",
    "Trưởng ấp",
]
ORDINARY_POSTS = ["", "", "Đảng viên", "Giáo viên", "Chuyên viên", "Nông dân"]
ACTIVITIES = [
    "Tọa đàm “Giữ trọn lời thề đảng viên”",
    "Giao lưu với đảng viên cao tuổi Đảng",
    "Hoạt động “Uống nước nhớ nguồn”",
    "Hoạt động “Đền ơn đáp nghĩa”",
    "Xem phim tài liệu “Đảng Cộng sản Việt Nam - Hành trình tự nhìn lại”",
    "Cuộc thi trắc nghiệm trực tuyến",
]

ISSUED = dt.date(2023, 1, 30)
START, END = dt.date(2023, 2, 1), dt.date(2023, 5, 19)
PLAN_DUE, REPORT_DUE, SYNTHESIS_DUE = (
    dt.date(2023, 2, 15),
    dt.date(2023, 6, 23),
    dt.date(2023, 6, 30),
)
LAST = dt.date(2023, 7, 31)


@dataclass(frozen=True)
class GeneratedFiles:
    """The four files written, and what they hold."""

    units: Path
    members: Path
    plan: Path
    facts: Path
    counts: dict[str, int]


@dataclass
class _Holder:
    code: str
    grassroots: str
    members: list[str] = field(default_factory=list)


@dataclass
class _World:
    rng: random.Random
    on_time: float
    never: float
    units: list[list[str]] = field(default_factory=list)
    members: list[list[str]] = field(default_factory=list)
    holders: list[_Holder] = field(default_factory=list)
    grassroots: list[str] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)

    def day(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(self.rng.randint(0, max((end - start).days, 0)))

    def behaviour(self) -> str:
        """on_time, late or never: how a unit meets a deadline."""
        roll = self.rng.random()
        return "never" if roll < self.never else ("on_time" if roll < self.on_time else "late")

    def fact(self, day: dt.date, kind: str, unit: str, member: str = "", note: str = "") -> None:
        self.facts.append([min(day, LAST).isoformat(), kind, unit, member, note])


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _build_tree(world: _World, total: int, shape: str, districts_wanted: int | None) -> str:
    if shape == "town":
        root, districts = "LAGI", [("LAGI", "Thị ủy La Gi")]
        world.units.append(["LAGI", "Thị ủy La Gi", "district", ""])
    else:
        root = "TINH"
        world.units.append(["TINH", "Tỉnh ủy Bình Thuận", "province", ""])
        count = districts_wanted or max(1, round(total / 20_000))
        districts = [
            (
                f"D{i + 1:02d}",
                DISTRICTS[i % len(DISTRICTS)] + (f" {i // 10 + 1}" if i >= 10 else ""),
            )
            for i in range(count)
        ]
        world.units += [[code, name, "district", root] for code, name in districts]
    made, g = 0, 0
    while made < total:
        district = districts[g % len(districts)][0]
        made += _grassroots(
            world, district, f"{district}-G{g // len(districts) + 1:03d}", total - made
        )
        g += 1
    return root


def _grassroots(world: _World, district: str, code: str, left: int) -> int:
    rng = world.rng
    direct = rng.random() < 0.15
    place = rng.choice(COMMUNES)
    name = f"Chi bộ {rng.choice(AGENCIES)}" if direct else f"Đảng bộ xã {place}"
    world.units.append([code, name, "grassroots", district])
    world.grassroots.append(code)
    if direct:
        return _fill(world, _Holder(code, code), left)
    made = 0
    for b in range(rng.randint(3, 15)):
        if made >= left:
            break
        label = rng.choice(["thôn", "khu phố", "ấp"])
        world.units.append([f"{code}-B{b + 1:02d}", f"Chi bộ {label} {b + 1}", "branch", code])
        made += _fill(world, _Holder(f"{code}-B{b + 1:02d}", code), left - made)
    return made


def _fill(world: _World, holder: _Holder, left: int) -> int:
    rng = world.rng
    size = min(rng.randint(10, 40), left)
    for _ in range(size):
        code = f"DV{len(world.members) + 1:07d}"
        leader = rng.random() < 0.10
        roll = rng.random()
        status = "exempt" if roll < 0.03 else ("transferred_out" if roll < 0.05 else "active")
        post = rng.choice(LEADER_POSTS if leader else ORDINARY_POSTS)
        world.members.append(
            [code, _name(rng), holder.code, "yes" if leader else "no", post, status]
        )
        if status == "active":
            holder.members.append(code)
    world.holders.append(holder)
    return size


def _deadline_day(world: _World, due: dt.date, earliest: dt.date, late_days: int) -> dt.date | None:
    behaviour = world.behaviour()
    if behaviour == "never":
        return None
    if behaviour == "on_time":
        return world.day(earliest, due)
    return due + dt.timedelta(world.rng.randint(1, late_days))


def _unit_facts(world: _World, root: str) -> None:
    for code in world.grassroots:
        if (day := _deadline_day(world, PLAN_DUE, ISSUED, 20)) is not None:
            world.fact(day, "plan_issued", code)
        if (day := _deadline_day(world, REPORT_DUE, END, 14)) is not None:
            world.fact(day, "report_submitted", code)
        if world.rng.random() < 0.2:
            world.fact(
                world.day(START, END), "activity_held", code, note=world.rng.choice(ACTIVITIES)
            )
    world.fact(dt.date(2023, 6, 29), "report_submitted", root)


def _member_facts(world: _World) -> None:
    for holder in world.holders:
        session = _deadline_day(world, END, START, 21)
        if session is None:
            continue
        world.fact(session, "session_held", holder.code)
        for member in holder.members:
            _assessment(world, holder.code, member, session)
            _screening(world, holder.code, member, session)
            _commendation(world, holder.code, member, session)


def _assessment(world: _World, unit: str, member: str, session: dt.date) -> None:
    rng = world.rng
    if rng.random() < 0.02:  # a member who misses the session and never submits
        return
    submitted = session + dt.timedelta(rng.choice([0, 0, 0, 1, 2]))
    world.fact(submitted, "self_assessment_submitted", unit, member)
    if rng.random() < 0.02:
        returned = submitted + dt.timedelta(rng.randint(1, 5))
        world.fact(returned, "self_assessment_returned", unit, member)
        submitted = returned + dt.timedelta(rng.randint(1, 7))
        world.fact(submitted, "self_assessment_submitted", unit, member)
    if rng.random() < 0.9:
        world.fact(
            submitted + dt.timedelta(rng.randint(1, 6)), "self_assessment_accepted", unit, member
        )


def _screening(world: _World, unit: str, member: str, session: dt.date) -> None:
    rng = world.rng
    if rng.random() >= 0.005:
        return
    day = session + dt.timedelta(rng.randint(0, 3))
    world.fact(day, "screening_opened", unit, member)
    steps = ["educate", "help"] + (["screen"] if rng.random() < 0.4 else [])
    steps.append("removed" if steps[-1] == "screen" and rng.random() < 0.3 else "cleared")
    for step in steps:
        day += dt.timedelta(rng.randint(3, 12))
        world.fact(day, "screening_step", unit, member, step)


def _commendation(world: _World, unit: str, member: str, session: dt.date) -> None:
    rng = world.rng
    if rng.random() >= 0.01:
        return
    day = session + dt.timedelta(rng.randint(1, 10))
    world.fact(day, "exemplar_nominated", unit, member)
    verdict = "exemplar_rejected" if rng.random() < 0.15 else "exemplar_approved"
    world.fact(day + dt.timedelta(rng.randint(3, 20)), verdict, unit, member)


def _plan(root: str, code: str, shape: str) -> dict[str, object]:
    return {
        "code": code,
        "title": "Giữ trọn lời thề đảng viên",
        "owner": root,
        "number": "15-KH/TU" if shape == "province" else "120-KH/TU",
        "issued_on": ISSUED,
        "place": "Phan Thiết" if shape == "province" else "La Gi",
        "period": {"start": START, "end": END},
        "sessions": {"per": "branch", "cadence": "period", "minimum": 1},
        "implementation_plan_due": PLAN_DUE,
        "self_assessment_due": END,
        "reports": {"grassroots_due": REPORT_DUE, "synthesis_due": SYNTHESIS_DUE},
        "escalation": {"remind_days_before": 7, "step_days": 7},
    }


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv_rows(handle, header, rows, lineterminator="\n")
    return path


def generate(
    members: int,
    out: Path,
    *,
    seed: int = 1,
    shape: Literal["province", "town"] = "province",
    plan_code: str = "GTLT-2023-DEMO",
    on_time: float = 0.85,
    never: float = 0.03,
    districts: int | None = None,
) -> GeneratedFiles:
    """Write units.csv, members.csv, plan.yaml and facts.csv for `members` members into `out`
    (a province has a district per 20,000 members, unless `districts` says how many)."""
    out.mkdir(parents=True, exist_ok=True)
    world = _World(random.Random(seed), on_time=on_time, never=never)
    root = _build_tree(world, members, shape, districts)
    _unit_facts(world, root)
    _member_facts(world)
    world.facts.sort(key=lambda f: (f[0], f[2], f[3]))
    plan = inside(out, "plan.yaml")
    plan.write_text(
        yaml.safe_dump(_plan(root, plan_code, shape), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    kinds = [u[2] for u in world.units]
    statuses = [m[5] for m in world.members]
    return GeneratedFiles(
        units=_write(inside(out, "units.csv"), ["code", "name", "kind", "parent"], world.units),
        members=_write(
            inside(out, "members.csv"),
            ["code", "full_name", "unit", "leader", "position", "status"],
            world.members,
        ),
        plan=plan,
        facts=_write(
            inside(out, "facts.csv"), ["date", "kind", "unit", "member", "note"], world.facts
        ),
        counts={
            "units": len(world.units),
            "districts": kinds.count("district"),
            "grassroots": kinds.count("grassroots"),
            "branches": kinds.count("branch"),
            "members": len(world.members),
            "leaders": sum(m[3] == "yes" for m in world.members),
            "active": statuses.count("active"),
            "exempt": statuses.count("exempt"),
            "transferred_out": statuses.count("transferred_out"),
            "facts": len(world.facts),
        },
    )


def load_organisation(engine: Engine, files: GeneratedFiles, *, on: dt.date) -> None:
    """Import the generated units, members (their roster dated `on`) and plan, each in a
    transaction of its own: what a bench or a test needs before the facts."""
    with transaction(engine) as session:
        import_units(files.units, session=session)
    with transaction(engine) as session:
        import_members(files.members, session=session, on=on)
    with transaction(engine) as session:
        register_plan(files.plan, session=session)
