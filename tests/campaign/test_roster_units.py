"""Obligations follow the tree (`campaign.intake.unit_tree`, `campaign.unit_follow`): on the
town's 2023 campaign, a branch moved under another grassroots organisation, two branches merged
into one, a level removed, each run through successive dates; units dissolved with members or
units in them refused by row, and the same units file twice recording nothing."""

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select

from campaign import reconcile
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import ImportSummary, import_units
from campaign.status import AuditFilter, audit_trail, campaign_status
from models.audit import AuditEvent
from models.campaigns import Campaign
from models.db import transaction
from models.documents import Document
from models.errors import InputError
from models.members import Member, MemberChange
from models.units import Unit, UnitChange
from models.views import AuditView
from states.audit_chain import verify_chain
from tests.input_files import UNIT_HEADER, UNIT_HEADER_VI, write_csv
from tests.scenario import ON_TIME, record_facts
from tests.town import PLANS, UNITS

# A units file with the three optional columns, in Vietnamese.
HEADER_VI = [*UNIT_HEADER_VI, "Tình trạng", "Sáp nhập vào", "Từ ngày"]
# The town with a third grassroots organisation and its branch, there from the start.
G3 = [
    ["G3", "Đảng bộ phường Phước Hội", "grassroots", "TOWN"],
    ["B3", "Chi bộ khu phố 3", "branch", "G3"],
]
PROVINCE = ["PROV", "Tỉnh ủy Thử Nghiệm", "province", ""]
_MAY_15, _MAY_16 = dt.date(2023, 5, 15), dt.date(2023, 5, 16)


def _tree(
    engine: Engine,
    path: Path,
    rows: list[list[str]],
    changes: dict[str, dict[int, str]],
    since: str = "15/05/2023",
    *,
    on: dt.date = _MAY_16,
) -> ImportSummary:
    """Import `rows` with `changes` ({unit: {column: value}}, columns 4 status, 5 merged_into),
    each changed row's Từ ngày set to `since`, by the clerk on `on`."""
    lines = []
    for row in rows:
        cells = [*row, "", "", ""]
        if row[0] in changes:
            for column, value in changes[row[0]].items():
                cells[column] = value
            cells[6] = since
        lines.append(cells)
    with transaction(engine) as session:
        return import_units(
            write_csv(path, HEADER_VI, lines), session=session, actor="clerk", on=on
        )


def _run(engine: Engine, day: str, code: str = "T23") -> None:
    reconcile.reconcile(engine, code, dt.date.fromisoformat(day), "tester")


def _notices(engine: Engine, day: str, code: str = "T23") -> dict[str, list[object]]:
    """The notices issued on `day`, by unit: [step, level, recipient, copied, members]."""
    with transaction(engine) as session:
        query = (
            select(Unit.code, Document.context)
            .join(Unit, Unit.id == Document.unit_id)
            .where(
                Document.issued_on == dt.date.fromisoformat(day),
                Document.kind.startswith("notice_"),
                Document.campaign_id
                == select(Campaign.id).where(Campaign.code == code).scalar_subquery(),
            )
        )
        return {
            unit: [
                c["step"],
                c["level"],
                c["recipient"],
                c["copied"],
                [m["code"] for m in c["members"]],
            ]
            for unit, c in session.execute(query)
        }


def _events(
    engine: Engine, code: str = "T23", *, unit: str | None = None, member: str | None = None
) -> list[AuditView]:
    with transaction(engine) as session:
        return list(audit_trail(session, code, AuditFilter(unit=unit, member=member)))


def _counts(engine: Engine) -> tuple[int, int, int]:
    """How many audit events, kept unit changes and kept member changes are stored."""
    with transaction(engine) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (AuditEvent, UnitChange, MemberChange)
        )


def _self_assessed(engine: Engine, unit: str, code: str = "T23") -> tuple[int, int]:
    with transaction(engine) as session:
        target = campaign_status(session, code, unit).targets.members_self_assessed
    return target.done, target.eligible


def _verifies(engine: Engine) -> int:
    with transaction(engine) as session:
        return verify_chain(session)


@pytest.fixture
def wider(town: Engine, tmp_path: Path) -> Engine:
    """The town with G3 and its branch B3, on 10/05/2023: B2 (M4) reminded, B1 self-assessed."""
    _tree(town, tmp_path / "start.csv", [*UNITS, *G3], {}, on=dt.date(2023, 1, 30))
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-02-01")
    _run(town, "2023-05-10")
    assert _notices(town, "2023-05-10")["B2"] == ["reminder", 0, "B2", [], ["M4"]]
    return town


def test_a_branch_moved_takes_its_obligations_and_members_to_its_new_superior(
    wider: Engine, tmp_path: Path
) -> None:
    assert _self_assessed(wider, "G1") == (2, 3)
    summary = _tree(wider, tmp_path / "u.csv", [*UNITS, *G3], {"B2": {3: "G3"}})
    assert (summary.updated, summary.unchanged) == (1, len(UNITS) + 1)
    _run(wider, "2023-05-22")
    assert _notices(wider, "2023-05-22")["B2"] == ["overdue", 0, "B2", ["G3"], ["M4"]]
    assert (_self_assessed(wider, "G1"), _self_assessed(wider, "G3")) == ((2, 2), (0, 1))
    _run(wider, "2023-05-31")
    assert _notices(wider, "2023-05-31")["B2"] == ["escalation", 1, "G3", ["B2"], ["M4"]]
    _run(wider, "2023-06-09")
    assert _notices(wider, "2023-06-09")["B2"] == ["escalation", 2, "TOWN", ["B2"], ["M4"]]
    [moved] = [e for e in _events(wider, unit="B2") if e.trigger == "tree_update"]
    assert (moved.actor, moved.at, moved.reason) == ("clerk", _MAY_15, "parent G1 → G3")
    with transaction(wider) as session:
        kept = session.execute(
            select(
                UnitChange.field,
                UnitChange.old,
                UnitChange.new,
                UnitChange.changed_on,
                UnitChange.actor,
            )
        ).all()
    assert kept == [("parent", "G1", "G3", _MAY_15, "clerk")]
    assert _verifies(wider) > moved.seq


def test_a_branch_merged_into_another_hands_over_its_members_and_waives_its_own_duties(
    wider: Engine, tmp_path: Path
) -> None:
    """B2 merged into B1 from 15/05: M4 and M5 move to B1 (M4's open self-assessment with
    her), B2's own session is waived "merged into B1 …", and B1 owns what remains."""
    _tree(wider, tmp_path / "u.csv", [*UNITS, *G3], {"B2": {5: "B1"}})
    with transaction(wider) as session:
        moved = session.execute(
            select(Member.code, Unit.code).join(Unit).where(Member.code.in_(["M4", "M5"]))
        ).all()
    assert sorted(moved) == [("M4", "B1"), ("M5", "B1")]
    _run(wider, "2023-05-22")
    notices = _notices(wider, "2023-05-22")
    assert notices["B1"] == ["overdue", 0, "B1", ["G1"], ["M4"]]
    assert "B2" not in notices, "nothing is left to chase through B2"
    assert _self_assessed(wider, "B1") == (2, 3)
    assert _self_assessed(wider, "G1") == (2, 3), "G1 counts the same members"
    b2 = [e for e in _events(wider, unit="B2") if e.entity == "obligation" and e.trigger == "waive"]
    assert [(e.actor, e.at, e.from_, e.to, e.reason) for e in b2] == [
        ("tester", dt.date(2023, 5, 22), "reminded", "waived",
         "merged into B1 Chi bộ khu phố 1 from 15/05/2023"),
    ]  # fmt: skip
    m4 = [(e.trigger, e.actor, e.at, e.reason) for e in _events(wider, member="M4")]
    assert ("roster_update", "clerk", _MAY_15, "unit B2 → B1: B2 merged into it") in m4
    assert (
        "move",
        "tester",
        dt.date(2023, 5, 22),
        "member moved: unit B2 → B1 from 15/05/2023",
    ) in m4
    [merged] = [e for e in _events(wider, unit="B2") if e.trigger == "tree_update"]
    assert (merged.actor, merged.at) == ("clerk", _MAY_15)
    assert merged.reason == "status active → dissolved; merged_into none → B1"
    _run(wider, "2023-05-31")
    assert _notices(wider, "2023-05-31")["B1"] == ["escalation", 1, "G1", ["B1"], ["M4"]]
    assert _verifies(wider) > merged.seq


def test_a_merger_takes_effect_from_its_date(wider: Engine, tmp_path: Path) -> None:
    """Merged from 16/05, imported that day: a run on 15/05 waives nothing, 16/05's does."""
    _tree(wider, tmp_path / "u.csv", [*UNITS, *G3], {"B2": {5: "B1"}}, "16/05/2023")
    _run(wider, "2023-05-15")
    assert not [e for e in _events(wider, unit="B2") if e.trigger == "waive"]
    _run(wider, "2023-05-16")
    assert len([e for e in _events(wider, unit="B2") if e.trigger == "waive"]) == 1


@pytest.fixture
def province(town: Engine, tmp_path: Path) -> Engine:
    """The town under a province whose committee runs the 2023 plan as P23, on 10/05/2023."""
    tree = [PROVINCE, ["TOWN", "Thị ủy Thử Nghiệm", "district", "PROV"]]
    _tree(town, tmp_path / "prov.csv", tree, {}, on=dt.date(2023, 1, 30))
    plan = yaml.safe_load((PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8"))
    plan.update(owner="PROV", code="P23")
    (tmp_path / "p23.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    with transaction(town) as session:
        register_plan(tmp_path / "p23.yaml", session=session)
    record_facts(town, tmp_path, "on-time.csv", ON_TIME, code="P23")
    _run(town, "2023-02-01", "P23")
    _run(town, "2023-05-10", "P23")
    return town


def test_a_level_removed_sends_the_ladder_to_the_level_above(
    province: Engine, tmp_path: Path
) -> None:
    """The district level abolished from 15/05: G1 and G2 re-parented to the province, TOWN
    dissolved; the campaign runs on, copying and escalating to the province."""
    tree = [PROVINCE, ["TOWN", "Thị ủy Thử Nghiệm", "district", "PROV"], *UNITS[1:]]
    changes = {"TOWN": {4: "dissolved"}, "G1": {3: "PROV"}, "G2": {3: "PROV"}}
    assert _tree(province, tmp_path / "u.csv", tree, changes).updated == 3
    _run(province, "2023-05-22", "P23")
    notices = _notices(province, "2023-05-22", "P23")
    assert notices["G2"] == ["overdue", 0, "G2", ["PROV"], ["M6", "M7"]]
    assert notices["B2"] == ["overdue", 0, "B2", ["G1"], ["M4"]]
    _run(province, "2023-05-31", "P23")
    assert _notices(province, "2023-05-31", "P23")["G2"][:4] == ["escalation", 1, "PROV", ["G2"]]
    for day in ("2023-06-09", "2023-06-26", "2023-07-05"):
        _run(province, day, "P23")
    assert _notices(province, "2023-07-05", "P23")["G1"] == ["escalation", 1, "PROV", ["G1"], []]
    assert _self_assessed(province, "PROV", "P23") == (2, 5)
    events = [e for e in _events(province, "P23", unit="TOWN") if e.trigger == "tree_update"]
    assert [(e.actor, e.at, e.reason) for e in events] == [
        ("clerk", _MAY_15, "status active → dissolved")
    ]
    regrouped = [e for e in _events(province, "P23", unit="G2") if e.trigger == "tree_update"]
    assert [(e.actor, e.at, e.reason) for e in regrouped] == [
        ("clerk", _MAY_15, "parent TOWN → PROV")
    ]
    assert _verifies(province) > events[0].seq


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"B2": {4: "dissolved"}},
            "row 5, column Tình trạng: 'B2' still holds 2 member(s): move them first, or merge "
            "it into a unit",
        ),
        (
            {"G1": {4: "dissolved"}},
            "row 3, column Tình trạng: 'G1' still has units under it (B1, B2): move them first",
        ),
        (
            {"B2": {5: "G2"}},
            "row 5, column Sáp nhập vào: a branch merges into a branch, not a grassroots",
        ),
        ({"B2": {5: "B9"}}, "row 5, column Sáp nhập vào: unknown unit 'B9'"),
        (
            {"G2": {5: "G1"}},
            "row 6, column Sáp nhập vào: 'G1' has units under it and cannot take in the members "
            "of 'G2'",
        ),
        ({"B2": {5: "B2"}}, "row 5, column Sáp nhập vào: a unit cannot merge into itself"),
        (
            {"B2": {4: "active", 5: "B1"}},
            "row 5, column Tình trạng: a unit merged into another is dissolved, not active",
        ),
        ({"B2": {4: "gone"}}, "row 5, column Tình trạng: Input should be 'active' or 'dissolved'"),
        ({"B2": {3: "G2"}}, "row 5, column Đơn vị cấp trên: 'G2' holds members directly"),
    ],
)
def test_a_unit_dissolved_with_members_or_units_in_it_is_refused_by_row(
    town: Engine, tmp_path: Path, changes: dict[str, dict[int, str]], expected: str
) -> None:
    before = _counts(town)
    with pytest.raises(InputError) as caught:
        _tree(town, tmp_path / "u.csv", UNITS, changes)
    first = caught.value.lines()[0]
    assert first.removeprefix("u.csv, ").startswith(expected), first
    assert _counts(town) == before, "nothing stored"


@pytest.mark.parametrize(
    ("since", "problem"),
    [
        ("31/02/2023", "is not a date (YYYY-MM-DD or DD/MM/YYYY) (got '31/02/2023')"),
        ("17/05/2023", "17/05/2023 is after the import's date 16/05/2023"),
        ("2023-05-10", "10/05/2023 is before the unit's last change, on 15/05/2023"),
    ],
)
def test_a_bad_since_is_refused_and_nothing_stored(
    wider: Engine, tmp_path: Path, since: str, problem: str
) -> None:
    _tree(wider, tmp_path / "a.csv", [*UNITS, *G3], {"B2": {3: "G3"}})
    before = _counts(wider)
    with pytest.raises(InputError) as caught:
        _tree(wider, tmp_path / "b.csv", [*UNITS, *G3], {"B2": {3: "G1"}}, since)
    assert caught.value.lines() == [f"b.csv, row 5, column Từ ngày: {problem}"]
    assert _counts(wider) == before


def test_a_merger_dated_before_a_members_last_change_is_refused(
    wider: Engine, tmp_path: Path
) -> None:
    """M4 moved into B2 on 15/05 as a member change: B2 merged from 10/05 would move her back
    in time, refused on B2's row."""
    with transaction(wider) as session:
        session.add(
            MemberChange(member_id=4, changed_on=_MAY_15, field="leader", old="no", new="yes")
        )
    before = _counts(wider)
    with pytest.raises(InputError) as caught:
        _tree(wider, tmp_path / "u.csv", [*UNITS, *G3], {"B2": {5: "B1"}}, "10/05/2023")
    assert caught.value.lines() == [
        "u.csv, row 5, column Từ ngày: 10/05/2023 is before the last change of member M4, "
        "on 15/05/2023"
    ]
    assert _counts(wider) == before


def test_the_same_units_file_twice_records_nothing_the_second_time(
    wider: Engine, tmp_path: Path
) -> None:
    changes = {"B2": {5: "B1"}, "B3": {0: "B3", 1: "Chi bộ khu phố 3 (mới)"}}
    rows = [*UNITS, *G3]
    first = _tree(wider, tmp_path / "a.csv", rows, changes)
    assert (first.updated, first.unchanged) == (2, len(rows) - 2)
    renamed = [e for e in _events(wider, unit="B3") if e.trigger == "tree_update"]
    assert [(e.at, e.reason) for e in renamed] == [
        (_MAY_15, "name Chi bộ khu phố 3 → Chi bộ khu phố 3 (mới)")
    ]
    _run(wider, "2023-05-22")
    after_first = _counts(wider)
    again = _tree(wider, tmp_path / "b.csv", rows, changes, "16/05/2023", on=dt.date(2023, 5, 22))
    assert (again.updated, again.unchanged) == (0, len(rows))
    assert _counts(wider) == after_first, "the second import records nothing"
    _run(wider, "2023-05-23")
    assert _counts(wider)[1:] == after_first[1:]
    assert len([e for e in _events(wider, unit="B2") if e.trigger == "waive"]) == 1


def test_a_branch_moved_out_of_the_organisation_has_its_obligations_waived(
    wider: Engine, tmp_path: Path
) -> None:
    """B2 moved under a grassroots organisation of another district: not the campaign's any
    more, its own duties and its members' are waived."""
    other = [["XA", "Thị ủy Khác", "district", ""], ["XA1", "Đảng bộ Khác", "grassroots", "XA"]]
    _tree(wider, tmp_path / "u.csv", [*UNITS, *G3, *other], {"B2": {3: "XA1"}})
    _run(wider, "2023-05-22")
    waived = [e.reason for e in _events(wider) if e.unit == "B2" and e.trigger == "waive"]
    assert waived == ["unit moved out: B2 under XA1 from 15/05/2023"] * 2
    assert "B2" not in _notices(wider, "2023-05-22")
    assert _self_assessed(wider, "G1") == (2, 2)


def test_english_headers_and_a_file_without_the_new_columns_still_import(
    town: Engine, tmp_path: Path
) -> None:
    """The optional columns may be left out: a rename holds from the import's date."""
    rows = [*UNITS[:3], ["B2", "Chi bộ khu phố 2 (mới)", "branch", "G1"], UNITS[4]]
    with transaction(town) as session:
        path = write_csv(tmp_path / "u.csv", UNIT_HEADER, rows)
        assert import_units(path, session=session, actor="clerk", on=_MAY_16).updated == 1
    with transaction(town) as session:
        kept = session.execute(select(UnitChange.field, UnitChange.changed_on)).all()
    assert kept == [("name", _MAY_16)]
