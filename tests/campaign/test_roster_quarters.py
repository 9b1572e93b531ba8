"""The 2024 quarterly plan (sessions each quarter) with members moved between quarters: each
quarter's figures and notices belong to the unit the member was in during that quarter, and what
a member did in one quarter stays counted where they did it."""

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from campaign import reconcile
from campaign.docs import write_documents
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.status import AuditFilter, audit_trail, campaign_status
from models.db import transaction
from models.documents import Document
from models.units import Unit
from states.audit_chain import verify_chain
from tests.input_files import MEMBER_HEADER, write_csv
from tests.scenario import record_facts
from tests.town import MEMBERS, plan_for

Q3_END, Q4_START = "2024-09-30", "2024-10-01"


def _run(engine: Engine, day: str) -> None:
    reconcile.reconcile(engine, "T24", dt.date.fromisoformat(day), "tester")


def _assessed(engine: Engine, as_of: str | None = None) -> dict[str, tuple[int, int]]:
    """Each unit's members_self_assessed on `as_of` (default: the last run's day)."""
    day = dt.date.fromisoformat(as_of) if as_of else None
    with transaction(engine) as session:
        status = campaign_status(session, "T24", as_of=day)
    return {
        u.code: (u.targets.members_self_assessed.done, u.targets.members_self_assessed.eligible)
        for u in status.units
    }


def _notices(engine: Engine, day: str) -> dict[str, list[str]]:
    query = (
        select(Unit.code, Document.context)
        .join(Unit, Unit.id == Document.unit_id)
        .where(Document.issued_on == dt.date.fromisoformat(day))
    )
    listed: dict[str, list[str]] = {}
    with transaction(engine) as session:
        for code, context in session.execute(query):
            listed.setdefault(code, []).extend(m["code"] for m in context["members"])
    return listed


def _move_to_g2(engine: Engine, path: Path, codes: tuple[str, ...]) -> None:
    """The clerk moves `codes` to G2 from the fourth quarter's first day (imported on 02/10)."""
    rows = [[m[0], m[1], "G2", *m[3:], Q4_START] if m[0] in codes else [*m, ""] for m in MEMBERS]
    with transaction(engine) as session:
        written = write_csv(path, [*MEMBER_HEADER, "since"], rows)
        import_members(written, session=session, on=dt.date(2024, 10, 2), actor="clerk")


def test_each_quarter_counts_the_member_where_they_were(town: Engine, tmp_path: Path) -> None:
    """M1 self-assessed in B1 (G1) in the third quarter; M4 had not. Both moved to G2 from
    01/10: M1's duty stays counted in B1, M4's is chased through G2 from then on; the third
    quarter, read on its last day, still counts both under G1."""
    with transaction(town) as session:
        register_plan(plan_for(tmp_path, "bu-gia-map-2024.yaml", code="T24"), session=session)
    _run(town, "2024-07-01")
    facts = [["2024-08-10", "self_assessment_submitted", "B1", "M1", ""]]
    record_facts(town, tmp_path, "q3.csv", facts, code="T24")
    _run(town, "2024-08-12")
    q3 = _assessed(town)
    assert (q3["G1"], q3["B2"], q3["G2"]) == ((1, 3), (0, 1), (0, 2))
    _move_to_g2(town, tmp_path / "moved.csv", ("M1", "M4"))
    _run(town, "2024-10-02")
    q4 = _assessed(town)
    assert (q4["G1"], q4["B1"], q4["B2"], q4["G2"]) == ((1, 2), (1, 2), (0, 0), (0, 3))
    assert _assessed(town, Q3_END) == q3, "the third quarter as it stood"
    _run(town, "2024-12-20")  # seven working days before the self-assessments are due
    reminded = _notices(town, "2024-12-20")
    assert (reminded["G2"], reminded["B1"]) == (["M4", "M6", "M7"], ["M2"])
    assert "B2" not in reminded, "M4 is no longer chased through B2"
    _run(town, "2025-01-02")  # the first working day after 31/12 (01/01 is a holiday)
    overdue = _notices(town, "2025-01-02")
    assert (overdue["G2"], overdue["B1"]) == (["M4", "M6", "M7"], ["M2"])
    with transaction(town) as session:
        m4 = list(audit_trail(session, "T24", AuditFilter(member="M4")))
        assert verify_chain(session) > 0
    changes = [(e.trigger, e.actor, e.at, e.unit, e.reason) for e in m4
               if e.trigger in ("roster_update", "move")]  # fmt: skip
    assert changes == [
        ("roster_update", "clerk", dt.date(2024, 10, 1), "G2", "unit B2 → G2"),
        ("move", "tester", dt.date(2024, 10, 2), "G2",
         "member moved: unit B2 → G2 from 01/10/2024"),
    ]  # fmt: skip
    written = _plans(town, tmp_path / "docs")
    assert "tự soi rọi (3)" in written["G2"] and "tự soi rọi (2)" in written["G1"]


def _plans(engine: Engine, out: Path) -> dict[str, str]:
    """Write the campaign's documents; each grassroots organisation's plan, as Markdown."""
    with transaction(engine) as session:
        write_documents(session, "T24", out)
    return {
        code: (out / code / "ke-hoach-thuc-hien.md").read_text(encoding="utf-8")
        for code in ("G1", "G2")
    }
