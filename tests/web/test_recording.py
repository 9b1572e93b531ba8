"""Recording a unit's facts from the console: the forms and the upload go through the facts
import (its checks, its refusals by row and column, its idempotence), as the logged-in account."""

import datetime as dt
from collections.abc import Mapping

import httpx
import pytest
from sqlalchemy import Engine, func, select

from campaign.access import add_account
from models.accounts import AccessRefusal, Role
from models.audit import AuditEvent
from models.db import transaction
from models.facts import Fact
from models.members import Member
from models.settings import get_settings
from models.units import Unit
from tests.scenario import run_flow
from tests.web.console_server import PASSWORD, Console, csrf_of

RECORD = "/campaigns/T23/units/{unit}/record"


def _post(client: httpx.Client, unit: str, data: Mapping[str, str | list[str]]) -> httpx.Response:
    token = csrf_of(client, "/account/password")
    return client.post(RECORD.format(unit=unit), data={**data, "csrf_token": token})


def _facts(engine: Engine) -> list[tuple[str, str, str | None, str]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Fact.kind, Fact.date, Member.code, Fact.recorded_by)
            .outerjoin(Member, Member.id == Fact.member_id)
            .order_by(Fact.id)
        )
        return [(kind, day.isoformat(), member, by) for kind, day, member, by in rows]


SESSION: dict[str, str | list[str]] = {
    "form": "session",
    "date": "2023-03-10",
    "note": "Chuyên đề năm 2023",
}
ASSESSED: dict[str, str | list[str]] = {
    "form": "assessments",
    "kind": "submitted",
    "date": "10/03/2023",
    "member": ["M1", "M2"],
}


def test_a_secretary_records_a_session_and_self_assessments(console: Console, town: Engine) -> None:
    client = console.login("bt.b1")
    form = client.get(RECORD.format(unit="B1"))
    assert form.status_code == 200
    assert 'name="member" value="M1"' in form.text and 'value="M3"' not in form.text  # M3 exempt
    assert _post(client, "B1", SESSION).status_code == 200
    page = _post(client, "B1", ASSESSED)
    assert page.status_code == 200 and "Đã ghi nhận 2 sự kiện" in page.text
    assert _facts(town) == [
        ("session_held", "2023-03-10", None, "bt.b1"),
        ("self_assessment_submitted", "2023-03-10", "M1", "bt.b1"),
        ("self_assessment_submitted", "2023-03-10", "M2", "bt.b1"),
    ]
    # Each fact is the secretary's act in the audit trail from the moment it is recorded.
    assert _recorded_events(town) == [
        ("bt.b1", None, "fact session_held Chuyên đề năm 2023"),
        ("bt.b1", "M1", "fact self_assessment_submitted"),
        ("bt.b1", "M2", "fact self_assessment_submitted"),
    ]
    run_flow(town, "2023-03-15")  # run by another actor: the facts' transitions are bt.b1's
    with transaction(town) as session:
        actors = session.scalars(
            select(AuditEvent.actor)
            .join(Member, Member.id == AuditEvent.member_id)
            .where(AuditEvent.trigger == "submit", Member.code.in_(["M1", "M2"]))
        ).all()
    assert sorted(actors) == ["bt.b1", "bt.b1"]


def test_the_same_form_posted_twice_records_nothing_new(console: Console, town: Engine) -> None:
    client = console.login("bt.b1")
    assert _post(client, "B1", ASSESSED).status_code == 200
    again = _post(client, "B1", ASSESSED)
    assert again.status_code == 200
    assert len(_recorded_events(town)) == 2  # the facts recorded once, audited once
    assert "Không có gì mới: 2 sự kiện này đã ghi trước đó" in again.text
    assert len(_facts(town)) == 2


def test_a_bad_date_is_refused_by_row_and_column_and_nothing_stored(
    console: Console, town: Engine
) -> None:
    client = console.login("bt.b1")
    page = _post(client, "B1", {**ASSESSED, "date": "31/02/2023"})
    assert page.status_code == 400
    assert "Dòng 2, cột ngày: không phải là ngày (viết dd/mm/yyyy)" in page.text
    assert "Dòng 3, cột ngày: không phải là ngày (viết dd/mm/yyyy)" in page.text
    assert 'value="M2" id="member-2" checked' in page.text  # the form kept, to fix and resend
    future = _post(
        client, "B1", {**SESSION, "date": (dt.date.today() + dt.timedelta(days=9)).isoformat()}
    )
    assert future.status_code == 400 and "chưa tới" in future.text
    assert _facts(town) == []
    assert _recorded_events(town) == []


def _refusals(engine: Engine, login: str) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(AccessRefusal.method, AccessRefusal.path).where(AccessRefusal.login == login)
        )
        return [(method, path) for method, path in rows]


def test_a_secretary_posting_for_another_branch_is_refused_and_recorded(
    console: Console, town: Engine
) -> None:
    client = console.login("bt.b1")
    assert client.get(RECORD.format(unit="B2")).status_code == 403
    response = _post(client, "B2", {**SESSION, "form": "session"})
    assert response.status_code == 403
    assert ("POST", "/campaigns/T23/units/B2/record") in _refusals(town, "bt.b1")
    assert _facts(town) == []


def test_a_reviewer_may_not_record(console: Console, town: Engine) -> None:
    client = console.login("ubkt")
    assert _post(client, "B1", SESSION).status_code == 403
    assert ("POST", "/campaigns/T23/units/B1/record") in _refusals(town, "ubkt")
    assert _facts(town) == []


def test_a_form_without_its_csrf_token_is_refused(console: Console, town: Engine) -> None:
    client = console.login("bt.b1")
    response = client.post(RECORD.format(unit="B1"), data=SESSION)
    assert response.status_code == 403
    forged = client.post(RECORD.format(unit="B1"), data={**SESSION, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert _facts(town) == []


def _upload(client: httpx.Client, what: str, name: str, content: str) -> httpx.Response:
    token = csrf_of(client, "/campaigns/T23/upload")
    return client.post(
        "/campaigns/T23/upload",
        data={"what": what, "csrf_token": token},
        files={"file": (name, content.encode(), "text/csv")},
    )


FACTS_FILE = (
    "date,kind,unit,member,note\n2023-03-10,session_held,B1,,\n2023-03-10,session_held,B2,,\n"
)


def test_an_upload_with_a_row_outside_the_unit_is_refused_by_row(
    console: Console, town: Engine
) -> None:
    client = console.login("bt.b1")
    page = _upload(client, "facts", "facts.csv", FACTS_FILE)
    assert page.status_code == 400
    assert "Tệp facts.csv, dòng 3, cột unit:" in page.text
    assert "nằm ngoài đơn vị của bạn (B1)" in page.text and "dòng 2" not in page.text
    assert _facts(town) == []
    inside = _upload(client, "facts", "facts.csv", FACTS_FILE.rsplit("2023", 1)[0])
    assert inside.status_code == 200 and "ghi nhận 1" in inside.text
    assert _facts(town) == [("session_held", "2023-03-10", None, "bt.b1")]


def test_units_and_members_uploads_are_the_operators_within_their_unit(
    console: Console, town: Engine
) -> None:
    secretary = console.login("bt.b1")
    members = "code,full_name,unit,leader\nM8,Ngô Văn Tám,B1,no\n"
    assert _upload(secretary, "members", "members.csv", members).status_code == 403
    above = console.login("bt.g1")  # the secretary of G1, above B1: not an operator either
    assert _upload(above, "units", "units.csv", "code,name,kind,parent\n").status_code == 403
    office = console.login("vp.thiuy")
    page = _upload(office, "members", "members.csv", members)
    assert page.status_code == 200 and "thêm mới 1" in page.text
    with transaction(town) as session:
        assert session.scalar(select(func.count()).where(Member.code == "M8")) == 1


def test_an_upload_larger_than_the_settings_allow_is_refused(
    console: Console, town: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_MAX_FILE_BYTES", "1000")
    get_settings.cache_clear()
    try:
        client = console.login("bt.b1")
        padded = FACTS_FILE.split("\n2023")[0] + "\n2023-03-10,session_held,B1,," + "x" * 4000
        streamed = _upload(client, "facts", "facts.csv", padded)  # within the request's slack
        assert streamed.status_code == 400
        assert "Tệp facts.csv: the file is more than the 1,000 bytes allowed" in streamed.text
        whole = _upload(client, "facts", "facts.csv", padded * 40)  # refused before it is read
        assert whole.status_code == 413 and "Tệp lớn hơn giới hạn 1.000 byte." in whole.text
    finally:
        get_settings.cache_clear()
    assert _facts(town) == []


UNITS_FILE = (
    "code,name,kind,parent\n"
    "B3,Chi bộ khu phố 3,branch,G1\n"
    "G3,Đảng bộ phường Mới,grassroots,TOWN\n"
    "G2,Chi bộ Trường THCS Nguyễn Du,grassroots,G1\n"
)


def test_an_operator_of_a_part_uploads_only_within_it(console: Console, town: Engine) -> None:
    with transaction(town) as session:
        add_account(
            session,
            "vp.g1",
            full_name="Văn phòng Đảng ủy phường Tân An",
            role=Role.operator,
            unit="G1",
            password=PASSWORD,
        )
    client = console.login("vp.g1")
    units = _upload(client, "units", "units.csv", UNITS_FILE)
    assert units.status_code == 400
    assert "Tệp units.csv, dòng 3, cột parent:" in units.text  # a new unit hung outside G1
    assert "Tệp units.csv, dòng 4, cột code:" in units.text  # G2 pulled in from outside
    assert "dòng 2" not in units.text and "nằm ngoài đơn vị của bạn (G1)" in units.text
    moved = _upload(
        client, "members", "members.csv", "code,full_name,unit,leader\nM6,Võ Thị Hà,B1,yes\n"
    )
    assert moved.status_code == 400 and "Tệp members.csv, dòng 2, cột code:" in moved.text
    with transaction(town) as session:
        assert session.scalar(select(func.count()).where(Unit.code.in_(["B3", "G3"]))) == 0
        assert session.scalar(select(Unit.code).join(Member).where(Member.code == "M6")) == "G2"
    assert client.get("/campaigns/T23/runs").status_code == 403  # not the whole campaign
    inside = _upload(client, "units", "units.csv", UNITS_FILE.split("\nG3")[0] + "\n")
    assert inside.status_code == 200 and "thêm mới 1" in inside.text


def _recorded_events(town: Engine) -> list[tuple[str, str | None, str | None]]:
    """The audit trail's `fact recorded` events: (actor, member code, reason), in order."""
    with transaction(town) as session:
        rows = session.execute(
            select(AuditEvent.actor, Member.code, AuditEvent.reason)
            .outerjoin(Member, Member.id == AuditEvent.member_id)
            .where(AuditEvent.entity == "fact", AuditEvent.trigger == "record")
            .order_by(AuditEvent.seq)
        )
        return [(actor, member, reason) for actor, member, reason in rows]
