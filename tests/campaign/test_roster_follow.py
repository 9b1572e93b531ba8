"""Obligations follow the roster (`campaign.roster_follow`): a member moved between branches is
chased through the new one from the move's date, a member who left has their obligations
waived, and the same roster imported twice changes nothing."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from campaign import reconcile
from campaign.intake.member_roster import import_members
from campaign.intake.unit_tree import ImportSummary, import_units
from campaign.status import AuditFilter, audit_trail, campaign_status, open_escalations
from models.audit import AuditEvent
from models.casework import Assessment
from models.db import transaction
from models.documents import Document
from models.errors import InputError
from models.members import Member, MemberChange
from models.obligations import Obligation
from models.units import Unit
from models.views import AuditView
from states.audit_chain import verify_chain
from tests.input_files import MEMBER_HEADER, MEMBER_HEADER_VI, UNIT_HEADER, write_csv
from tests.scenario import ON_TIME, record_facts
from tests.town import MEMBERS, UNITS


def _roster(
    engine: Engine, path: Path, changes: dict[str, dict[int, str]], since: str, *, on: dt.date
) -> ImportSummary:
    """Import the town's roster with `changes` ({member: {column: value}}), each changed row's
    `since` (Từ ngày) cell set, by the clerk on `on`; Vietnamese headers."""
    rows = [
        [*(changes.get(m[0], {}).get(i, cell) for i, cell in enumerate(m)), since]
        if m[0] in changes
        else [*m, ""]
        for m in MEMBERS
    ]
    with transaction(engine) as session:
        written = write_csv(path, [*MEMBER_HEADER_VI, "Từ ngày"], rows)
        return import_members(written, session=session, on=on, actor="clerk")


def _run(engine: Engine, day: str) -> None:
    reconcile.reconcile(engine, "T23", dt.date.fromisoformat(day), "tester")


def _notice_members(engine: Engine, day: str) -> dict[str, list[str]]:
    """The notices issued on `day`: each unit's, and the members it lists."""
    with transaction(engine) as session:
        query = (
            select(Unit.code, Document.context)
            .join(Unit, Unit.id == Document.unit_id)
            .where(
                Document.issued_on == dt.date.fromisoformat(day),
                Document.kind.startswith("notice_"),
            )
        )
        listed: dict[str, list[str]] = {}
        for code, context in session.execute(query):
            listed.setdefault(code, []).extend(m["code"] for m in context["members"])
    return listed


def _self_assessed(engine: Engine, unit: str) -> tuple[int, int]:
    with transaction(engine) as session:
        target = campaign_status(session, "T23", unit).targets.members_self_assessed
    return target.done, target.eligible


def _m4_events(engine: Engine) -> list[AuditView]:
    with transaction(engine) as session:
        return list(audit_trail(session, "T23", AuditFilter(member="M4")))


def _late_members(engine: Engine) -> dict[str, list[str]]:
    """Each unit with something late, and its late members."""
    late: dict[str, list[str]] = {}
    with transaction(engine) as session:
        for e in open_escalations(session, "T23"):
            late.setdefault(e.unit, []).extend(e.members or [])
    return late


def _counts(engine: Engine) -> tuple[int, int]:
    """How many audit events and dated roster changes are stored."""
    with transaction(engine) as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        changes = session.scalar(select(func.count()).select_from(MemberChange)) or 0
    return events, changes


@pytest.fixture
def reminded(town: Engine, tmp_path: Path) -> Engine:
    """The town on 10/05/2023: M1 and M2 (B1) self-assessed, M4 (B2) reminded, B2 has held
    no session."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-02-01")
    _run(town, "2023-05-10")
    assert _notice_members(town, "2023-05-10")["B2"] == ["M4"]
    assert _self_assessed(town, "B1") == (2, 2)
    return town


def test_a_member_moved_before_the_overdue_date_is_chased_through_the_new_branch(
    reminded: Engine, tmp_path: Path
) -> None:
    summary = _roster(reminded, tmp_path / "m.csv", {"M4": {2: "B1"}}, "15/05/2023", on=_MAY_16)
    assert summary.updated == 1
    _run(reminded, "2023-05-22")
    notices = _notice_members(reminded, "2023-05-22")
    assert notices["B1"] == ["M4"], "the overdue notice goes to M4's new branch"
    assert notices["B2"] == [], "the old branch is chased for its session only"
    late = _late_members(reminded)
    assert (late["B1"], late["B2"]) == (["M4"], [])
    assert _self_assessed(reminded, "B1") == (2, 3)
    assert _self_assessed(reminded, "B2") == (0, 0)
    roster, move = [e for e in _m4_events(reminded) if e.trigger in ("roster_update", "move")]
    assert (roster.actor, roster.at, roster.reason) == ("clerk", _MAY_15, "unit B2 → B1")
    assert (move.actor, move.at, move.entity, move.unit) == (
        "tester", dt.date(2023, 5, 22), "obligation", "B1"
    )  # fmt: skip
    assert (move.from_, move.to) == ("reminded", "reminded")
    assert move.reason == "member moved: unit B2 → B1 from 15/05/2023"
    with transaction(reminded) as session:
        assert verify_chain(session) > move.seq, "the chain holds, the move's event in it"
    _run(reminded, "2023-05-23")
    assert [e.trigger for e in _m4_events(reminded)].count("move") == 1, "moved once"


def test_a_moved_members_self_assessment_is_taken_in_by_the_new_branch(
    reminded: Engine, tmp_path: Path
) -> None:
    _roster(reminded, tmp_path / "m.csv", {"M4": {2: "B1"}}, "15/05/2023", on=_MAY_16)
    _run(reminded, "2023-05-22")
    submitted = [["2023-05-23", "self_assessment_submitted", "B1", "M4", ""]]
    record_facts(reminded, tmp_path, "late.csv", submitted)
    _run(reminded, "2023-05-24")
    events = [
        (e.entity, e.to, e.unit) for e in _m4_events(reminded) if e.at == dt.date(2023, 5, 24)
    ]
    assert events == [("assessment", "submitted", "B1"), ("obligation", "met_late", "B1")]


def test_what_was_met_stays_where_it_was_met(reminded: Engine, tmp_path: Path) -> None:
    """M1 self-assessed in B1, then moved to B2 as M4 moved to B1: M1's met duty is still
    counted in B1, M4's open one moves there."""
    changes = {"M1": {2: "B2"}, "M4": {2: "B1"}}
    _roster(reminded, tmp_path / "m.csv", changes, "15/05/2023", on=_MAY_16)
    _run(reminded, "2023-05-22")
    with transaction(reminded) as session:
        unit = session.scalar(
            select(Unit.code)
            .join(Obligation, Obligation.unit_id == Unit.id)
            .join(Member, Member.id == Obligation.member_id)
            .where(Member.code == "M1")
        )
    assert unit == "B1"
    assert _self_assessed(reminded, "B1") == (2, 3)
    assert _self_assessed(reminded, "B2") == (0, 0)


def test_members_moved_together_are_all_chased_through_their_new_branch(
    reminded: Engine, tmp_path: Path
) -> None:
    """M6 and M7 (G2, not yet self-assessed) both moved to B1: one statement moves them all."""
    changes = {"M6": {2: "B1"}, "M7": {2: "B1"}}
    _roster(reminded, tmp_path / "m.csv", changes, "15/05/2023", on=_MAY_16)
    _run(reminded, "2023-05-22")
    assert _notice_members(reminded, "2023-05-22")["B1"] == ["M6", "M7"]
    assert _self_assessed(reminded, "B1") == (2, 4)
    with transaction(reminded) as session:
        units = session.execute(
            select(Member.code, Unit.code)
            .join(Assessment, Assessment.member_id == Member.id)
            .join(Unit, Unit.id == Assessment.unit_id)
            .where(Member.code.in_(("M6", "M7")))
        ).all()
    assert sorted(units) == [("M6", "B1"), ("M7", "B1")], "their self-assessments went with them"


def test_a_move_holds_from_its_date_not_before(reminded: Engine, tmp_path: Path) -> None:
    """Imported on 16/05 but holding from 23/05 is refused (a roster records what happened);
    holding from 16/05, it moves nothing at a run dated before."""
    with pytest.raises(InputError) as caught:
        _roster(reminded, tmp_path / "a.csv", {"M4": {2: "B1"}}, "23/05/2023", on=_MAY_16)
    assert caught.value.lines() == [
        "a.csv, row 5, column Từ ngày: 23/05/2023 is after the import's date 16/05/2023"
    ]
    _roster(reminded, tmp_path / "b.csv", {"M4": {2: "B1"}}, "2023-05-16", on=_MAY_16)
    _run(reminded, "2023-05-15")
    assert "move" not in [e.trigger for e in _m4_events(reminded)]
    _run(reminded, "2023-05-16")
    assert [e.trigger for e in _m4_events(reminded)].count("move") == 1


def test_a_member_who_leaves_has_their_obligations_waived(reminded: Engine, tmp_path: Path) -> None:
    _roster(reminded, tmp_path / "m.csv", {"M4": {5: "died"}}, "15/05/2023", on=_MAY_16)
    _run(reminded, "2023-05-22")
    waived = [e for e in _m4_events(reminded) if e.trigger == "waive"]
    assert [(e.actor, e.at, e.from_, e.to, e.reason) for e in waived] == [
        (
            "tester",
            dt.date(2023, 5, 22),
            "reminded",
            "waived",
            "member left: status died from 15/05/2023",
        )
    ]
    notices = _notice_members(reminded, "2023-05-22")
    assert notices["B2"] == [], "M4 is no longer chased"
    assert "M4" not in [m for members in notices.values() for m in members]
    assert _late_members(reminded)["B2"] == []
    assert _self_assessed(reminded, "B2") == (0, 0)


def test_a_member_moved_out_of_the_organisation_has_left_it(
    reminded: Engine, tmp_path: Path
) -> None:
    """M4 moved to a grassroots organisation of another district: not the campaign's any more."""
    other = [["XA", "Thị ủy Khác", "district", ""], ["XA1", "Chi bộ Khác", "grassroots", "XA"]]
    with transaction(reminded) as session:
        path = write_csv(tmp_path / "units.csv", UNIT_HEADER, [*UNITS, *other])
        import_units(path, session=session, actor="clerk")
    _roster(reminded, tmp_path / "m.csv", {"M4": {2: "XA1"}}, "15/05/2023", on=_MAY_16)
    _run(reminded, "2023-05-22")
    waived = [(e.trigger, e.to, e.reason) for e in _m4_events(reminded) if e.entity == "obligation"]
    assert waived[-1] == ("waive", "waived", "member moved out: unit XA1 from 15/05/2023")
    assert "M4" not in _notice_members(reminded, "2023-05-22")["B2"]
    assert _self_assessed(reminded, "B2") == (0, 0)


def test_the_same_roster_twice_records_nothing_the_second_time(
    reminded: Engine, tmp_path: Path
) -> None:
    changes = {"M4": {2: "B1"}, "M2": {3: "yes"}}
    first = _roster(reminded, tmp_path / "a.csv", changes, "15/05/2023", on=_MAY_16)
    assert (first.updated, first.unchanged) == (2, len(MEMBERS) - 2)
    with transaction(reminded) as session:
        kept = session.execute(
            select(MemberChange.field, MemberChange.old, MemberChange.new, MemberChange.changed_on)
        ).all()
    assert sorted(kept) == [("leader", "no", "yes", _MAY_15), ("unit", "B2", "B1", _MAY_15)]
    _run(reminded, "2023-05-22")
    after_first = _counts(reminded)
    again = _roster(reminded, tmp_path / "b.csv", changes, "16/05/2023", on=dt.date(2023, 5, 22))
    assert (again.updated, again.unchanged) == (0, len(MEMBERS))
    assert _counts(reminded) == after_first, "the second import records nothing"
    _run(reminded, "2023-05-23")
    assert [e.trigger for e in _m4_events(reminded)].count("move") == 1


@pytest.mark.parametrize(
    ("since", "problem"),
    [
        ("31/02/2023", "is not a date (YYYY-MM-DD or DD/MM/YYYY) (got '31/02/2023')"),
        ("soon", "is not a date (YYYY-MM-DD or DD/MM/YYYY) (got 'soon')"),
    ],
)
def test_a_bad_since_is_refused_and_nothing_stored(
    town: Engine, tmp_path: Path, since: str, problem: str
) -> None:
    before = _counts(town)
    rows: list[list[Any]] = [[*m, ""] for m in MEMBERS]
    rows[3][2], rows[3][6] = "B1", since
    path = write_csv(tmp_path / "bad.csv", [*MEMBER_HEADER, "since"], rows)
    with transaction(town) as session, pytest.raises(InputError) as caught:
        import_members(path, session=session, on=_MAY_16, actor="clerk")
    assert caught.value.lines() == [f"bad.csv, row 5, column since: {problem}"]
    assert _counts(town) == before
    with transaction(town) as session:
        unit = session.scalar(select(Unit.code).join(Member).where(Member.code == "M4"))
    assert unit == "B2"


def test_a_change_dated_before_the_members_last_change_is_refused(
    town: Engine, tmp_path: Path
) -> None:
    """A member's dated changes stay in order: the unit they were in on a day is read from them."""
    _roster(town, tmp_path / "a.csv", {"M4": {2: "B1"}}, "15/05/2023", on=_MAY_16)
    before = _counts(town)
    with pytest.raises(InputError) as caught:
        _roster(town, tmp_path / "b.csv", {"M4": {2: "G2"}}, "10/05/2023", on=_MAY_16)
    assert caught.value.lines() == [
        "b.csv, row 5, column Từ ngày: 10/05/2023 is before the member's last change, on 15/05/2023"
    ]
    assert _counts(town) == before


_MAY_15, _MAY_16 = dt.date(2023, 5, 15), dt.date(2023, 5, 16)
