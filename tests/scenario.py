"""The hand-made town's 2023 scenario, shared by the tests that run it: the facts its units
report (on time, recorded late, the reports upward), how they are imported and how a run at a
date is made, and the end state two runs are compared by."""

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from campaign.intake.fact_sheet import import_facts
from flows.campaign_flow import campaign_flow
from models.audit import AuditEvent
from models.db import transaction
from models.obligations import Obligation
from tests.input_files import write_csv

FACT_HEADER = ["date", "kind", "unit", "member", "note"]
ON_TIME = [
    ["2023-02-10", "plan_issued", "G1", "", ""],
    ["2023-03-10", "session_held", "B1", "", ""],
    ["2023-03-10", "self_assessment_submitted", "B1", "M1", ""],
    ["2023-03-10", "self_assessment_submitted", "B1", "M2", ""],
    ["2023-03-12", "self_assessment_accepted", "B1", "M1", ""],
    ["2023-03-20", "activity_held", "G1", "", "Giao lưu với đảng viên cao tuổi Đảng"],
]
RECORDED_LATE = [
    ["2023-05-18", "session_held", "B2", "", ""],
    ["2023-05-18", "self_assessment_submitted", "B2", "M4", ""],
]
REPORTS = [
    ["2023-06-20", "report_submitted", "G1", "", ""],
    ["2023-06-29", "report_submitted", "TOWN", "", ""],
]


def record_facts(
    engine: Engine, tmp_path: Path, name: str, rows: list[list[str]], code: str = "T23"
) -> None:
    """Import `rows` as the facts file `name` of campaign `code`, as the tester."""
    with transaction(engine) as session:
        path = write_csv(tmp_path / name, FACT_HEADER, rows)
        import_facts(code, path, session=session, actor="tester", today=dt.date(2026, 1, 1))


def run_flow(engine: Engine, day: str) -> Any:
    """The campaign flow of T23 at `day` (ISO), as the tester; its result."""
    url = engine.url.render_as_string(hide_password=False)
    return campaign_flow("T23", dt.date.fromisoformat(day), "tester", url)


def end_state(engine: Engine) -> tuple[list[Any], list[Any]]:
    """The obligations' states and levels, and the audit's transitions, both sorted."""
    with transaction(engine) as session:
        states = sorted(
            session.execute(
                select(Obligation.key, Obligation.state, Obligation.escalation_level)
            ).all()
        )
        events = sorted(
            session.execute(
                select(
                    AuditEvent.entity,
                    AuditEvent.entity_id,
                    AuditEvent.trigger,
                    AuditEvent.from_state,
                    AuditEvent.to_state,
                    AuditEvent.at,
                )
            ).all()
        )
    return [tuple(s) for s in states], [tuple(e) for e in events]
