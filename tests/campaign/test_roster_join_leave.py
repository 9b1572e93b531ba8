"""Members who join, are exempted, leave and come back while the La Gi town's 2023 campaign runs
(`campaign.roster_follow`, `campaign.deploy`): each run through successive dates, its notices,
escalations, targets and `status` name the right unit, and the audit trail holds each change
with its actor and date."""

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from campaign import reconcile
from campaign.docs import write_documents
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from campaign.status import AuditFilter, audit_trail, campaign_status, open_escalations
from models.db import transaction
from models.documents import Document
from models.errors import InputError
from models.members import Member
from models.obligations import Obligation
from models.plans import read_plan
from models.units import Unit
from models.views import AuditView, CampaignStatus
from states.audit_chain import verify_chain
from tests.cli_process import run_cli
from tests.input_files import MEMBER_HEADER, UNIT_HEADER, write_csv
from tests.scenario import ON_TIME, record_facts
from tests.town import MEMBERS, UNITS, plan_for

CUT_OFF = dt.date(2023, 4, 14)
LAN = ["M8", "Bùi Thị Lan", "B2", "no", "", "active"]  # admitted 10/04, before the cut-off
MAI = ["M9", "Đỗ Thị Mai", "B1", "no", "", "active"]  # admitted 20/04, after it


def _roster(
    engine: Engine, path: Path, rows: list[list[str]], since: dict[str, str], *, on: str
) -> None:
    """Import the town's roster as `rows`, each member in `since` with that `since` cell, by the
    clerk on `on`."""
    cells = [[*row, since.get(row[0], "")] for row in rows]
    with transaction(engine) as session:
        written = write_csv(path, [*MEMBER_HEADER, "since"], cells)
        import_members(written, session=session, on=dt.date.fromisoformat(on), actor="clerk")


def _changed(code: str, column: int, value: str) -> list[list[str]]:
    """The town's roster with one cell of member `code` changed."""
    return [[*(value if i == column else c for i, c in enumerate(m))] if m[0] == code else m
            for m in MEMBERS]  # fmt: skip


def _run(engine: Engine, day: str) -> None:
    reconcile.reconcile(engine, "T23", dt.date.fromisoformat(day), "tester")


def _notices(engine: Engine, day: str) -> dict[str, list[str]]:
    """The notices issued on `day`: each unit's, and the members it lists."""
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


def _status(engine: Engine, as_of: str | None = None) -> CampaignStatus:
    day = dt.date.fromisoformat(as_of) if as_of else None
    with transaction(engine) as session:
        return campaign_status(session, "T23", as_of=day)


def _assessed(status: CampaignStatus) -> dict[str, tuple[int, int]]:
    """Each unit's members_self_assessed, as (done, eligible)."""
    return {
        u.code: (u.targets.members_self_assessed.done, u.targets.members_self_assessed.eligible)
        for u in status.units
    }


def _events(engine: Engine, member: str) -> list[AuditView]:
    with transaction(engine) as session:
        return list(audit_trail(session, "T23", AuditFilter(member=member)))


def _duty(engine: Engine, member: str) -> tuple[str, str] | None:
    """The member's self-assessment duty: its unit and state (None: the plan set them none)."""
    with transaction(engine) as session:
        row = session.execute(
            select(Unit.code, Obligation.state)
            .join(Obligation, Obligation.unit_id == Unit.id)
            .join(Member, Member.id == Obligation.member_id)
            .where(Member.code == member)
        ).one_or_none()
    return None if row is None else (row[0], row[1])


@pytest.fixture
def cut_off_town(town: Engine, tmp_path: Path) -> Engine:
    """The town whose plan takes no new member admitted after 14/04/2023, run on 01/02."""
    with transaction(town) as session:
        plan = plan_for(tmp_path, "la-gi-2023.yaml", code="T23", new_members_until="2023-04-14")
        register_plan(plan, session=session, actor="secretary")
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-02-01")
    return town


def test_a_member_admitted_before_the_cut_off_owes_the_duties(
    cut_off_town: Engine, tmp_path: Path
) -> None:
    _roster(
        cut_off_town, tmp_path / "a.csv", [*MEMBERS, LAN], {"M8": "10/04/2023"}, on="2023-04-11"
    )
    _run(cut_off_town, "2023-04-12")
    assert _duty(cut_off_town, "M8") == ("B2", "open")
    assert _assessed(_status(cut_off_town))["B2"] == (0, 2)
    assert _assessed(_status(cut_off_town, "2023-04-05"))["B2"] == (0, 1), "not yet admitted"
    _run(cut_off_town, "2023-05-10")
    assert _notices(cut_off_town, "2023-05-10")["B2"] == ["M4", "M8"]
    _run(cut_off_town, "2023-05-22")
    assert _notices(cut_off_town, "2023-05-22")["B2"] == ["M4", "M8"]
    with transaction(cut_off_town) as session:
        late = {e.unit: e.members for e in open_escalations(session, "T23") if e.members}
    assert (late["B2"], late["G2"]) == (["M4", "M8"], ["M6", "M7"])
    (added,) = [e for e in _events(cut_off_town, "M8") if e.trigger == "roster_add"]
    assert (added.actor, added.at, added.unit) == ("clerk", dt.date(2023, 4, 10), "B2")
    assert _status(cut_off_town).excluded == []


def test_a_member_admitted_after_the_cut_off_is_excluded_with_the_reason(
    cut_off_town: Engine, tmp_path: Path
) -> None:
    _roster(
        cut_off_town, tmp_path / "a.csv", [*MEMBERS, MAI], {"M9": "20/04/2023"}, on="2023-04-21"
    )
    _run(cut_off_town, "2023-04-24")
    assert _duty(cut_off_town, "M9") is None
    status = _status(cut_off_town)
    assert _assessed(status)["B1"] == (2, 2), "M1 and M2 only"
    (excluded,) = status.excluded
    assert (excluded.member, excluded.unit, excluded.joined) == ("M9", "B1", dt.date(2023, 4, 20))
    assert excluded.reason == (
        "joined 20/04/2023, after the plan's cut-off for new members (14/04/2023)"
    )
    assert status.model_dump(mode="json")["excluded"][0]["reason"] == excluded.reason
    assert _status(cut_off_town, "2023-04-19").excluded == [], "not yet admitted then"
    _run(cut_off_town, "2023-05-22")
    assert "M9" not in [m for ms in _notices(cut_off_town, "2023-05-22").values() for m in ms]
    (added,) = [e for e in _events(cut_off_town, "M9") if e.trigger == "roster_add"]
    assert (added.actor, added.at) == ("clerk", dt.date(2023, 4, 20))
    with transaction(cut_off_town) as session:
        write_documents(session, "T23", tmp_path / "docs")
    g1, g2 = (tmp_path / "docs" / g / "ke-hoach-thuc-hien.md" for g in ("G1", "G2"))
    assert (
        "- Không tính: Đỗ Thị Mai (Chi bộ khu phố 1): kết nạp ngày 20/04/2023, sau ngày "
        "14/04/2023 kế hoạch quy định, không tính vào chỉ tiêu."
    ) in g1.read_text(encoding="utf-8")
    assert "tự soi rọi (3)" in g1.read_text(encoding="utf-8"), "M1, M2 and M4"
    assert "Không tính" not in g2.read_text(encoding="utf-8")


def test_a_cut_off_outside_the_plans_dates_is_refused(tmp_path: Path) -> None:
    path = plan_for(tmp_path, "la-gi-2023.yaml", code="T23", new_members_until="2023-06-01")
    with pytest.raises(InputError) as caught:
        read_plan(path)
    assert "new_members_until must not be after period.end" in "\n".join(caught.value.lines())


def test_a_member_exempted_mid_campaign_has_the_duty_waived(town: Engine, tmp_path: Path) -> None:
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-02-01")
    _roster(town, tmp_path / "a.csv", _changed("M4", 5, "exempt"), {"M4": "05/05/2023"},
            on="2023-05-08")  # fmt: skip
    _run(town, "2023-05-10")
    assert _duty(town, "M4") == ("B2", "waived")
    (waived,) = [e for e in _events(town, "M4") if e.trigger == "waive"]
    assert (waived.actor, waived.at, waived.from_, waived.to) == (
        "tester", dt.date(2023, 5, 10), "open", "waived"
    )  # fmt: skip
    assert waived.reason == "member exempted: status exempt from 05/05/2023"
    assert _notices(town, "2023-05-10").get("B2") == [], "B2 is reminded of its session only"
    assert _assessed(_status(town))["B2"] == (0, 0)
    assert _assessed(_status(town, "2023-05-04"))["B2"] == (0, 1), "active until 05/05"
    _run(town, "2023-05-22")
    assert "M4" not in [m for ms in _notices(town, "2023-05-22").values() for m in ms]


def test_a_member_who_left_and_came_back_owes_what_is_still_due(
    town: Engine, tmp_path: Path
) -> None:
    """M4 transferred out on 03/04 and back on 20/04 in branch B1: the duty is waived, then
    reopened in B1, reminded and chased there."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-02-01")
    left = _changed("M4", 5, "transferred_out")
    _roster(town, tmp_path / "a.csv", left, {"M4": "03/04/2023"}, on="2023-04-04")
    _run(town, "2023-04-05")
    assert _duty(town, "M4") == ("B2", "waived")
    back = _changed("M4", 2, "B1")
    _roster(town, tmp_path / "b.csv", back, {"M4": "20/04/2023"}, on="2023-04-21")
    _run(town, "2023-04-24")
    assert _duty(town, "M4") == ("B1", "open")
    assert _assessed(_status(town))["B1"] == (2, 3)
    away = _assessed(_status(town, "2023-04-10"))
    assert (away["B1"], away["B2"]) == ((2, 2), (0, 0)), "away on 10/04"
    assert _assessed(_status(town, "2023-04-01"))["B2"] == (0, 1), "in B2 before leaving"
    _run(town, "2023-05-10")
    assert _notices(town, "2023-05-10")["B1"] == ["M4"]
    _run(town, "2023-05-22")
    assert _notices(town, "2023-05-22")["B1"] == ["M4"]
    events = [
        (e.trigger, e.actor, e.at, e.unit, e.reason)
        for e in _events(town, "M4")
        if e.trigger in ("roster_update", "waive", "reinstate", "move")
    ]
    assert events == [
        ("roster_update", "clerk", dt.date(2023, 4, 3), "B2", "status active → transferred_out"),
        ("waive", "tester", dt.date(2023, 4, 5), "B2",
         "member left: status transferred_out from 03/04/2023"),
        ("roster_update", "clerk", dt.date(2023, 4, 20), "B1",
         "status transferred_out → active; unit B2 → B1"),
        ("reinstate", "tester", dt.date(2023, 4, 24), "B2", "member back from 20/04/2023"),
        ("move", "tester", dt.date(2023, 4, 24), "B1",
         "member moved: unit B2 → B1 from 20/04/2023"),
    ]  # fmt: skip
    with transaction(town) as session:
        assert verify_chain(session) > 0


def test_a_member_back_after_the_due_date_owes_nothing(town: Engine, tmp_path: Path) -> None:
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-02-01")
    _roster(town, tmp_path / "a.csv", _changed("M4", 5, "died"), {"M4": "03/04/2023"},
            on="2023-04-04")  # fmt: skip
    _run(town, "2023-04-05")
    _roster(town, tmp_path / "b.csv", MEMBERS, {"M4": "22/05/2023"}, on="2023-05-22")
    _run(town, "2023-05-23")
    assert _duty(town, "M4") == ("B2", "waived"), "due on 19/05, before M4 was back"
    assert "reinstate" not in [e.trigger for e in _events(town, "M4")]


def test_a_member_transferred_out_from_the_start_and_back_is_deployed(
    town: Engine, tmp_path: Path
) -> None:
    """M5 was transferred out when the campaign started (no duty); back on 20/04, they owe it."""
    _run(town, "2023-02-01")
    assert _duty(town, "M5") is None
    _roster(town, tmp_path / "a.csv", _changed("M5", 5, "active"), {"M5": "20/04/2023"},
            on="2023-04-21")  # fmt: skip
    _run(town, "2023-04-24")
    assert _duty(town, "M5") == ("B2", "open")
    assert _assessed(_status(town))["B2"] == (0, 2)
    assert _assessed(_status(town, "2023-04-19"))["B2"] == (0, 1), "away until 20/04"


def test_the_status_command_shows_who_was_left_out_and_a_past_roster(
    cut_off_town: Engine, tmp_path: Path
) -> None:
    """Through the real console script: `status` lists the member the cut-off excluded, and
    `status --as-of` counts the roster of that day."""
    since = {"M8": "10/04/2023", "M9": "20/04/2023"}
    _roster(cut_off_town, tmp_path / "a.csv", [*MEMBERS, LAN, MAI], since, on="2023-04-21")
    _run(cut_off_town, "2023-04-24")
    url = cut_off_town.url.render_as_string(hide_password=False)
    table = run_cli("status", "T23", "--unit", "G1", database_url=url)
    assert table.returncode == 0, table.stderr
    assert (
        "excluded: M9 Đỗ Thị Mai (B1) — joined 20/04/2023, after the plan's cut-off for new "
        "members (14/04/2023)"
    ) in table.stdout
    for day, eligible in (("2023-04-05", 1), ("24/04/2023", 2)):
        done = run_cli("status", "T23", "--as-of", day, "--format", "json", database_url=url)
        assert done.returncode == 0, done.stderr
        units = {u["code"]: u for u in json.loads(done.stdout)["units"]}
        assert units["B2"]["targets"]["members_self_assessed"]["eligible"] == eligible, day


def test_a_member_moved_out_and_back_in_owes_what_is_still_due(
    town: Engine, tmp_path: Path
) -> None:
    """M4 moved to a grassroots organisation of another district on 03/04, back in G2 on 20/04."""
    other = [["XA", "Thị ủy Khác", "district", ""], ["XA1", "Chi bộ Khác", "grassroots", "XA"]]
    with transaction(town) as session:
        path = write_csv(tmp_path / "units.csv", UNIT_HEADER, [*UNITS, *other])
        import_units(path, session=session, actor="clerk")
    _run(town, "2023-02-01")
    _roster(town, tmp_path / "a.csv", _changed("M4", 2, "XA1"), {"M4": "03/04/2023"},
            on="2023-04-04")  # fmt: skip
    _run(town, "2023-04-05")
    assert _duty(town, "M4") == ("B2", "waived")
    assert _assessed(_status(town))["B2"] == (0, 0)
    _roster(town, tmp_path / "b.csv", _changed("M4", 2, "G2"), {"M4": "20/04/2023"},
            on="2023-04-21")  # fmt: skip
    _run(town, "2023-04-24")
    assert _duty(town, "M4") == ("G2", "open")
    assert _assessed(_status(town))["G2"] == (0, 3)
    _run(town, "2023-05-10")
    assert "M4" in _notices(town, "2023-05-10")["G2"]
    reasons = [e.reason for e in _events(town, "M4") if e.entity == "obligation"]
    assert reasons == [
        "member moved out: unit XA1 from 03/04/2023",
        "member back from 20/04/2023",
        "member moved: unit B2 → G2 from 20/04/2023",
        None,  # the reminder of 10/05
    ]


def test_status_of_a_past_day_reads_that_days_leader_flag(town: Engine, tmp_path: Path) -> None:
    """M2 (self-assessed in March) leads from 15/05: the leaders' target counts them from then."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-05-10")
    _roster(town, tmp_path / "a.csv", _changed("M2", 3, "yes"), {"M2": "15/05/2023"},
            on="2023-05-16")  # fmt: skip
    _run(town, "2023-05-22")

    def leaders(as_of: str | None = None) -> tuple[int, int]:
        target = _status(town, as_of).targets.leaders_self_assessed
        return target.done, target.eligible

    assert (leaders(), leaders("2023-05-12")) == ((2, 3), (1, 2)), "M1 and M6, then M2 too"
