"""Synthetic organisations shaped like real ones: a nation (63 provinces), a province or a town
of grassroots organisations and branches, a roster with Vietnamese names, a plan, and facts
with realistic behaviour (most units on time, some late, a few never). Deterministic for a seed.

The files are written as their rows are made: the units and members at once, the facts through
one file per date (sorted within the date at the end), so a nation of millions of members is
generated in bounded memory; nothing but a byte per member and a row per unit holding members
stays in Python."""

import datetime as dt
import random
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from sqlalchemy import Engine

from campaign.exports import inside
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from devtools.csv_stream import CsvRows, FactsByDate
from devtools.organisation_words import (
    ACTIVITIES,
    AGENCIES,
    COMMUNES,
    DISTRICTS,
    FAMILY,
    GIVEN,
    LEADER_POSTS,
    MIDDLE,
    ORDINARY_POSTS,
    PROVINCES,
)
from models.db import transaction

ISSUED = dt.date(2023, 1, 30)
START, END = dt.date(2023, 2, 1), dt.date(2023, 5, 19)
PLAN_DUE, REPORT_DUE, SYNTHESIS_DUE = (
    dt.date(2023, 2, 15),
    dt.date(2023, 6, 23),
    dt.date(2023, 6, 30),
)
LAST = dt.date(2023, 7, 31)

Shape = Literal["province", "town", "nation"]
SHAPES: tuple[Shape, ...] = ("province", "town", "nation")
# A nation has a province per this many members (up to 63), and a province a district per
# MEMBERS_PER_DISTRICT (between 1 and 10 to 30, the larger provinces having more).
MEMBERS_PER_PROVINCE = 6_000
MEMBERS_PER_DISTRICT = 2_000
_PLACE = {"province": ("15-KH/TU", "Phan Thiết"), "town": ("120-KH/TU", "La Gi")}
_PLACE["nation"] = ("05-KH/TW", "Hà Nội")


@dataclass(frozen=True)
class GeneratedFiles:
    """The four files written, and what they hold."""

    units: Path
    members: Path
    plan: Path
    facts: Path
    counts: dict[str, int]


@dataclass
class _World:
    rng: random.Random
    on_time: float
    never: float
    units: CsvRows
    members: CsvRows
    facts: FactsByDate
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    leaders: int = 0
    active: bytearray = field(default_factory=bytearray)  # 1 for each active member, in order
    holders: list[tuple[str, int, int]] = field(default_factory=list)  # unit, first member, n
    grassroots: list[str] = field(default_factory=list)

    def unit(self, code: str, name: str, kind: str, parent: str) -> None:
        self.units.add([code, name, kind, parent])
        self.kinds[kind] += 1

    def day(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(self.rng.randint(0, max((end - start).days, 0)))

    def behaviour(self) -> str:
        """on_time, late or never: how a unit meets a deadline."""
        roll = self.rng.random()
        return "never" if roll < self.never else ("on_time" if roll < self.on_time else "late")

    def fact(self, day: dt.date, kind: str, unit: str, member: str = "", note: str = "") -> None:
        self.facts.add([min(day, LAST).isoformat(), kind, unit, member, note])

    def counts(self) -> dict[str, int]:
        provinces = {"provinces": self.kinds["province"]} if self.kinds["central"] else {}
        return {
            "units": sum(self.kinds.values()),
            **provinces,
            "districts": self.kinds["district"],
            "grassroots": self.kinds["grassroots"],
            "branches": self.kinds["branch"],
            "members": len(self.active),
            "leaders": self.leaders,
            "active": self.statuses["active"],
            "exempt": self.statuses["exempt"],
            "transferred_out": self.statuses["transferred_out"],
            "facts": self.facts.count,
        }


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _build_tree(
    world: _World, total: int, shape: Shape, districts_wanted: int | None, provinces: int | None
) -> str:
    if shape == "nation":
        return _nation(world, total, provinces or nation_provinces(total), districts_wanted)
    if shape == "town":
        root, districts = "LAGI", [("LAGI", "Thị ủy La Gi")]
        world.unit("LAGI", "Thị ủy La Gi", "district", "")
    else:
        root = "TINH"
        world.unit("TINH", "Tỉnh ủy Bình Thuận", "province", "")
        count = districts_wanted or max(1, round(total / 20_000))
        districts = [
            (
                f"D{i + 1:02d}",
                DISTRICTS[i % len(DISTRICTS)] + (f" {i // 10 + 1}" if i >= 10 else ""),
            )
            for i in range(count)
        ]
        for code, name in districts:
            world.unit(code, name, "district", root)
    _spread(world, [code for code, _ in districts], total)
    return root


def _spread(world: _World, districts: list[str], total: int) -> None:
    """Grassroots organisations holding `total` members, dealt to `districts` in turn."""
    made, g = 0, 0
    while made < total:
        district = districts[g % len(districts)]
        made += _grassroots(
            world, district, f"{district}-G{g // len(districts) + 1:03d}", total - made
        )
        g += 1


def nation_provinces(total: int) -> int:
    """How many provinces a generated nation of `total` members has: one per 6,000, 1 to 63."""
    return min(len(PROVINCES), max(1, total // MEMBERS_PER_PROVINCE))


def _nation(world: _World, total: int, count: int, districts_wanted: int | None) -> str:
    """The central committee over `count` of the 63 provinces, picked at random, sharing
    `total` by their real weights; each with its districts (`districts_wanted`, else one per
    2,000 members, at most 10 to 30 by its weight) and their grassroots organisations."""
    world.unit("TW", "Ban Chấp hành Trung ương", "central", "")
    chosen = sorted(world.rng.sample(range(len(PROVINCES)), min(count, len(PROVINCES))))
    sizes = _shares(total, [PROVINCES[i][1] for i in chosen])
    for index, size in zip(chosen, sizes, strict=True):
        code, (name, weight) = f"T{index + 1:02d}", PROVINCES[index]
        world.unit(code, name, "province", "TW")
        wanted = min(max(10, round(weight / 15)), 30)
        many = districts_wanted or max(1, min(wanted, round(size / MEMBERS_PER_DISTRICT)))
        districts = [f"{code}-D{d + 1:02d}" for d in range(many)]
        for d, district in enumerate(districts):
            world.unit(district, _district_name(index, d), "district", code)
        _spread(world, districts, size)
    return "TW"


def _district_name(province: int, d: int) -> str:
    committee = "Thành ủy" if d == 0 else ("Thị ủy" if d == 1 else "Huyện ủy")
    place = COMMUNES[(province * 5 + d) % len(COMMUNES)]
    return f"{committee} {place}" + (f" {d // len(COMMUNES) + 1}" if d >= len(COMMUNES) else "")


def _shares(total: int, weights: list[int]) -> list[int]:
    """`total` shared in proportion to `weights`, the rounding left to the largest remainders."""
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _grassroots(world: _World, district: str, code: str, left: int) -> int:
    rng = world.rng
    direct = rng.random() < 0.15
    place = rng.choice(COMMUNES)
    name = f"Chi bộ {rng.choice(AGENCIES)}" if direct else f"Đảng bộ xã {place}"
    world.unit(code, name, "grassroots", district)
    world.grassroots.append(code)
    if direct:
        return _fill(world, code, left)
    made = 0
    for b in range(rng.randint(3, 15)):
        if made >= left:
            break
        label = rng.choice(["thôn", "khu phố", "ấp"])
        world.unit(f"{code}-B{b + 1:02d}", f"Chi bộ {label} {b + 1}", "branch", code)
        made += _fill(world, f"{code}-B{b + 1:02d}", left - made)
    return made


def _fill(world: _World, holder: str, left: int) -> int:
    rng = world.rng
    size = min(rng.randint(10, 40), left)
    first = len(world.active)
    for _ in range(size):
        code = f"DV{len(world.active) + 1:07d}"
        leader = rng.random() < 0.10
        roll = rng.random()
        status = "exempt" if roll < 0.03 else ("transferred_out" if roll < 0.05 else "active")
        post = rng.choice(LEADER_POSTS if leader else ORDINARY_POSTS)
        world.members.add([code, _name(rng), holder, "yes" if leader else "no", post, status])
        world.active.append(status == "active")
        world.statuses[status] += 1
        world.leaders += leader
    world.holders.append((holder, first, size))
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
    for holder, first, size in world.holders:
        session = _deadline_day(world, END, START, 21)
        if session is None:
            continue
        world.fact(session, "session_held", holder)
        for i in range(first, first + size):
            if world.active[i]:
                member = f"DV{i + 1:07d}"
                _assessment(world, holder, member, session)
                _screening(world, holder, member, session)
                _commendation(world, holder, member, session)


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


def _plan(root: str, code: str, shape: Shape) -> dict[str, object]:
    number, place = _PLACE[shape]
    return {
        "code": code,
        "title": "Giữ trọn lời thề đảng viên",
        "owner": root,
        "number": number,
        "issued_on": ISSUED,
        "place": place,
        "period": {"start": START, "end": END},
        "sessions": {"per": "branch", "cadence": "period", "minimum": 1},
        "implementation_plan_due": PLAN_DUE,
        "self_assessment_due": END,
        "reports": {"grassroots_due": REPORT_DUE, "synthesis_due": SYNTHESIS_DUE},
        "escalation": {"remind_days_before": 7, "step_days": 7},
    }


def generate(
    members: int,
    out: Path,
    *,
    seed: int = 1,
    shape: Shape = "province",
    plan_code: str = "GTLT-2023-DEMO",
    on_time: float = 0.85,
    never: float = 0.03,
    districts: int | None = None,
    provinces: int | None = None,
) -> GeneratedFiles:
    """Write units.csv, members.csv, plan.yaml and facts.csv for `members` members into `out`
    (a province has a district per 20,000 members, unless `districts` says how many; a nation
    a province per 6,000 members up to 63 unless `provinces` says how many, each a district
    per 2,000 members up to 10 to 30 unless `districts` says how many)."""
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as files:
        world = _World(
            random.Random(seed),
            on_time=on_time,
            never=never,
            units=files.enter_context(
                CsvRows(inside(out, "units.csv"), ["code", "name", "kind", "parent"])
            ),
            members=files.enter_context(
                CsvRows(
                    inside(out, "members.csv"),
                    ["code", "full_name", "unit", "leader", "position", "status"],
                )
            ),
            facts=files.enter_context(FactsByDate(out)),
        )
        root = _build_tree(world, members, shape, districts, provinces)
        _unit_facts(world, root)
        _member_facts(world)
        facts = files.enter_context(
            CsvRows(inside(out, "facts.csv"), ["date", "kind", "unit", "member", "note"])
        )
        world.facts.write(facts)
    plan = inside(out, "plan.yaml")
    plan.write_text(
        yaml.safe_dump(_plan(root, plan_code, shape), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return GeneratedFiles(
        units=world.units.path,
        members=world.members.path,
        plan=plan,
        facts=facts.path,
        counts=world.counts(),
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
