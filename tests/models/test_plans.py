"""Registering campaign plans."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select

from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from models.campaigns import Campaign
from models.db import transaction
from models.errors import InputError
from models.plans import read_plan
from tests.input_files import UNIT_HEADER, write_csv

PLANS = Path(__file__).parents[2] / "plans"


def test_the_seed_plans_encode_their_dates_and_rules() -> None:
    la_gi = read_plan(PLANS / "la-gi-2023.yaml")
    assert (la_gi.period.start.isoformat(), la_gi.period.end.isoformat()) == (
        "2023-02-01",
        "2023-05-19",
    )
    assert la_gi.reports.grassroots_due.isoformat() == "2023-06-23"
    assert la_gi.reports.synthesis_due.isoformat() == "2023-06-30"
    assert (la_gi.sessions.per.value, la_gi.sessions.cadence.value) == ("branch", "period")
    bgm = read_plan(PLANS / "bu-gia-map-2024.yaml")
    assert bgm.number == "262-KH/HU" and bgm.issued_on.isoformat() == "2024-06-17"
    assert (bgm.sessions.per.value, bgm.sessions.cadence.value) == ("grassroots", "quarter")


def _owner(engine: Engine, tmp_path: Path, kind: str = "district") -> None:
    rows = [["LAGI", "Thị ủy La Gi", kind, "" if kind == "district" else "ROOT"]]
    if kind != "district":
        rows.insert(0, ["ROOT", "Huyện ủy", "district", ""])
    with transaction(engine) as session:
        import_units(write_csv(tmp_path / "u.csv", UNIT_HEADER, rows), session=session)


def test_registering_twice_is_harmless(engine: Engine, tmp_path: Path) -> None:
    _owner(engine, tmp_path)
    for expected_new in (True, False):
        with transaction(engine) as session:
            campaign, new = register_plan(PLANS / "la-gi-2023.yaml", session=session)
            assert new is expected_new and campaign.state == "registered"
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 1


def _plan_with(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load((PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"period": {"start": "2023-06-01", "end": "2023-05-19"}},
            "period.end must not be before period.start",
        ),
        ({"owner": "NOPE"}, "plan.yaml, key owner: 'NOPE' is unknown unit"),
        ({"reports": {"grassroots_due": "2023-06-23"}}, "reports.synthesis_due"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"register_stands_at": {"cv": 3}}, "key register_stands_at.cv.[key]: String should match"),
        ({"register_stands_at": {"CV": -1}}, "key register_stands_at.CV: Input should be greater"),
    ],
)
def test_a_bad_plan_is_refused(
    engine: Engine, tmp_path: Path, changes: dict[str, object], expected: str
) -> None:
    _owner(engine, tmp_path)
    with pytest.raises(InputError) as caught, transaction(engine) as session:
        register_plan(_plan_with(tmp_path, **changes), session=session)
    assert any(expected in line for line in caught.value.lines()), caught.value.lines()
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_owner_must_be_a_district_or_province(engine: Engine, tmp_path: Path) -> None:
    _owner(engine, tmp_path, kind="grassroots")
    with (
        pytest.raises(InputError, match="a grassroots, not a district or province"),
        transaction(engine) as session,
    ):
        register_plan(PLANS / "la-gi-2023.yaml", session=session)


def _refused(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_plan(path)
    return caught.value.lines()


def test_a_day_that_does_not_exist_is_named_by_its_key(tmp_path: Path) -> None:
    text = (PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8")
    path = tmp_path / "plan.yaml"
    path.write_text(text.replace("start: 2023-02-01", "start: 2023-02-30"), encoding="utf-8")
    assert _refused(path) == [
        "plan.yaml, key period.start: Input should be a valid date or datetime, day value is "
        "outside expected range"
    ]
    path.write_text(text.replace("start: 2023-02-01", "start: !!timestamp 2023-02-30"))
    assert _refused(path) == ["plan.yaml: cannot read the plan: day is out of range for month"]


def test_a_plan_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("title: " + "x" * (1 << 20) + "\n", encoding="utf-8")
    assert _refused(path) == [
        f"plan.yaml: the plan is {path.stat().st_size:,} bytes, more than the 1,048,576 allowed"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- &b [*b]\n", "plan.yaml: a plan is a YAML mapping of keys"),
        ("!!python/object:os.system {}\n", "plan.yaml: cannot read the plan: could not"),
        ("title: [" * 5000 + "\n", "plan.yaml: "),
    ],
)
def test_hostile_yaml_is_refused_cleanly(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    (line,) = _refused(path)
    assert line.startswith(expected), line


def test_a_nul_character_is_refused_at_its_key(engine: Engine, tmp_path: Path) -> None:
    """PostgreSQL's text cannot hold a NUL: refused before anything is stored, on both
    backends alike, at every key that holds one (found by the importers' fuzz test)."""
    _owner(engine, tmp_path)
    data = yaml.safe_load((PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8"))
    data["title"] = "B\x00"
    data["reports"] = [{"x\x00": 1}]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as caught, transaction(engine) as session:
        register_plan(path, session=session)
    nul = "contains a NUL character (\\x00), which no column can hold: remove it"
    assert caught.value.lines() == [  # in the file's order; a key's NUL shown escaped
        f"plan.yaml, key reports[0].x\\x00: {nul}",
        f"plan.yaml, key title: {nul}",
    ]
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_register_key_is_optional_and_kept_only_when_given(tmp_path: Path) -> None:
    """A plan without the key is the plan stored before it existed (a changed plan is refused
    after the first run); a plan with it keeps it."""
    plain = read_plan(PLANS / "la-gi-2023.yaml")
    assert "register_stands_at" not in plain.model_dump(mode="json")
    assert plain.register_start("CV", 2023) == 0
    given = read_plan(_plan_with(tmp_path, register_stands_at={"CV": 11}))
    assert given.model_dump(mode="json")["register_stands_at"] == {"CV": 11}
    assert (given.register_start("CV", 2023), given.register_start("CV", 2024)) == (11, 0)
    assert given.register_start("BC", 2023) == 0
