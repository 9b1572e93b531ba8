"""The table of fact kinds: complete, and what validation and apply read from it."""

import pytest

from campaign.fact_kinds import (
    EVIDENCE,
    FACT_KINDS,
    SCREENING_TRIGGERS,
    Reporter,
    fact_transition,
    kinds_moving,
)
from models.facts import FactKind
from models.obligations import ObligationKind, TargetName
from models.plans import SessionsPer
from models.units import UnitKind
from models.views import Targets
from states.lifecycles import ASSESSMENT, COMMENDATION, SCREENING


def test_every_fact_kind_has_its_row_and_every_duty_its_evidence() -> None:
    assert list(FACT_KINDS) == list(FactKind)
    assert {
        ObligationKind.issue_plan: FactKind.plan_issued,
        ObligationKind.hold_session: FactKind.session_held,
        ObligationKind.self_assess: FactKind.self_assessment_submitted,
        ObligationKind.report_upward: FactKind.report_submitted,
    } == EVIDENCE


def test_each_lifecycle_is_moved_by_its_own_kinds() -> None:
    assert kinds_moving(ASSESSMENT) == (
        FactKind.self_assessment_submitted,
        FactKind.self_assessment_accepted,
        FactKind.self_assessment_returned,
    )
    assert kinds_moving(SCREENING) == (FactKind.screening_opened, FactKind.screening_step)
    assert set(kinds_moving()) == {
        *kinds_moving(ASSESSMENT),
        *kinds_moving(SCREENING),
        *kinds_moving(COMMENDATION),
    }
    assert FactKind.activity_held not in kinds_moving()


@pytest.mark.parametrize(
    ("kind", "note", "fires"),
    [
        ("self_assessment_returned", "", (ASSESSMENT, "send_back")),
        ("screening_opened", "", (SCREENING, None)),  # opens a case
        ("screening_step", "cleared", (SCREENING, "clear")),
        ("screening_step", "forgiven", None),  # not a step
        ("exemplar_nominated", "", (COMMENDATION, None)),
        ("session_held", "", None),  # evidence, not a lifecycle's
    ],
)
def test_a_fact_fires_what_the_table_says(kind: str, note: str, fires: object) -> None:
    assert fact_transition(kind, note) == fires


def test_a_screening_step_is_named_by_its_note() -> None:
    assert list(SCREENING_TRIGGERS) == ["educate", "help", "screen", "cleared", "removed"]


@pytest.mark.parametrize(
    ("kind", "unit", "per", "may"),
    [
        (FactKind.plan_issued, UnitKind.grassroots, SessionsPer.branch, True),
        (FactKind.plan_issued, UnitKind.branch, SessionsPer.branch, False),
        (FactKind.session_held, UnitKind.grassroots, SessionsPer.branch, False),
        (FactKind.session_held, UnitKind.grassroots, SessionsPer.grassroots, True),
        (FactKind.report_submitted, UnitKind.district, SessionsPer.branch, False),
        (FactKind.activity_held, UnitKind.district, SessionsPer.branch, True),
    ],
)
def test_who_may_report_a_fact(kind: FactKind, unit: UnitKind, per: SessionsPer, may: bool) -> None:
    reporter = Reporter(
        unit, holds_members=unit is UnitKind.branch, is_owner=False, sessions_per=per
    )
    assert FACT_KINDS[kind].reported_by(reporter) is may


def test_the_committee_reports_its_synthesis() -> None:
    owner = Reporter(
        UnitKind.district, holds_members=False, is_owner=True, sessions_per=SessionsPer.branch
    )
    assert FACT_KINDS[FactKind.report_submitted].reported_by(owner)


def test_the_targets_are_named_once() -> None:
    assert list(TargetName) == list(Targets.model_fields)
