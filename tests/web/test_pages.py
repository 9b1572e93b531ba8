"""The console's reading pages through the real server: the dashboard, a unit's page and its
documents, the escalations page — each rooted at the account's unit, each refusing what lies
outside it."""

import datetime as dt
import html
import re
from pathlib import Path

import httpx
from sqlalchemy import Engine, select, update

from campaign.reconcile import reconcile
from models.accounts import AccessRefusal
from models.db import transaction
from models.documents import Document
from models.members import Member
from models.units import Unit
from tests.scenario import ON_TIME, record_facts
from tests.web.console_server import Console

SCRIPT = "<script>alert(1)</script>"


def run_town(town: Engine, tmp_path: Path, *days: str) -> None:
    """The town's on-time facts recorded, then the campaign run at each of `days` (ISO)."""
    record_facts(town, tmp_path, "facts.csv", ON_TIME)
    for day in days:
        reconcile(town, "T23", dt.date.fromisoformat(day), "tester")


def text(page: httpx.Response) -> str:
    """What a reader sees of a page: its text without tags, spaces collapsed."""
    assert page.status_code == 200, page.text
    body = page.text.split("<main>", 1)[-1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def notice_of(town: Engine, unit: str) -> int:
    """The id of the first notice filed under `unit`."""
    with transaction(town) as session:
        query = select(Document.id).join(Unit, Unit.id == Document.unit_id)
        found = session.scalar(query.where(Unit.code == unit).order_by(Document.id))
    assert found is not None, f"no notice of {unit}"
    return found


def test_the_dashboard_shows_the_targets_chart_tree_late_units_and_runs(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    client = console.login("vp.thiuy")
    before = text(client.get("/campaigns/T23"))
    assert (
        "Chưa chạy lần nào" in before and "Đảng viên tự soi rọi, tự nhận xét 100,0% 0 / 0" in before
    )
    run_town(town, tmp_path, "2023-03-15", "2023-05-22")
    seen = text(client.get("/campaigns/T23"))  # the figures kept before the runs are not
    assert "Số liệu đến ngày 22/05/2023" in seen
    assert "Đảng viên tự soi rọi, tự nhận xét 40,0% 2 / 5" in seen
    assert "Đảng viên lãnh đạo, quản lý tự soi rọi, tự nhận xét 50,0% 1 / 2" in seen
    assert "Chi bộ tổ chức sinh hoạt chuyên đề 33,3% 1 / 3" in seen
    # the chart of TOWN's units, the tree down to the branches (a town is small: all shown)
    assert "G1 Đảng bộ phường Tân An 66,7%" in seen
    assert "B1 Chi bộ khu phố 1 2/2 100,0%" in seen
    # G2 escalated to level 2 since 15/03, then B2 overdue on 22/05
    late = seen.split("Đơn vị chậm tiến độ (2)", 1)[1]
    assert late.index("G2 Chi bộ Trường THCS Nguyễn Du") < late.index("B2 Chi bộ khu phố 2")
    assert "15/02/2023 Mức 2: báo cáo cấp ủy chủ trì 2" in late
    assert "19/05/2023 Đôn đốc (quá hạn) 1" in late
    runs = seen.split("Các lần chạy gần đây", 1)[1]
    assert runs.index("22/05/2023 tester") < runs.index("15/03/2023 tester")


def test_a_secretary_s_dashboard_is_rooted_at_their_branch(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    run_town(town, tmp_path, "2023-05-22")
    seen = text(console.login("bt.b1").get("/campaigns/T23"))
    assert "Phạm vi: Chi bộ khu phố 1" in seen
    assert "Đảng viên tự soi rọi, tự nhận xét 100,0% 2 / 2" in seen
    assert "Đơn vị chậm tiến độ (0)" in seen
    assert "G2" not in seen and "Chi bộ khu phố 2" not in seen


def test_a_unit_page_lists_its_members_leaders_marked_and_its_duties(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    run_town(town, tmp_path, "2023-05-22")
    page = console.login("bt.b1").get("/campaigns/T23/units/B1")
    seen = text(page)
    assert '<span class="leader" title="Lãnh đạo, quản lý">★ Nguyễn Văn An</span>' in page.text
    assert "★ Trần Thị Bình" not in seen
    assert "M1 ★ Nguyễn Văn An Bí thư chi bộ Đang sinh hoạt Chi bộ đã thông qua" in seen
    assert "M2 Trần Thị Bình Đang sinh hoạt Đã nộp, chờ chi bộ nhận xét" in seen
    assert "M3 Lê Hữu Cường Miễn sinh hoạt" in seen
    assert "Tổ chức sinh hoạt chuyên đề 19/05/2023 Đã hoàn thành" in seen
    assert seen.index("M1 ") < seen.index("M2 ") < seen.index("M3 ")


def test_a_late_branch_s_page_shows_its_ladder_and_its_notice_to_print(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    run_town(town, tmp_path, "2023-05-22")
    client = console.login("vp.thiuy")
    seen = text(client.get("/campaigns/T23/units/B2"))
    assert "Tổ chức sinh hoạt chuyên đề 19/05/2023 Quá hạn Đôn đốc (quá hạn)" in seen
    assert "M4 Phạm Thị Dung Đang sinh hoạt Chưa nộp 19/05/2023 Quá hạn" in seen
    assert "22/05/2023" in seen.split("Công văn gửi đơn vị", 1)[1]
    b2_notice = notice_of(town, "B2")
    notice = client.get(f"/campaigns/T23/units/B2/documents/{b2_notice}")
    assert notice.status_code == 200
    assert "Chi bộ khu phố 2" in notice.text and "Phạm Thị Dung" in notice.text
    # filed under B2: found from its parent's page too, not from a sibling's
    assert client.get(f"/campaigns/T23/units/G1/documents/{b2_notice}").status_code == 200
    assert client.get(f"/campaigns/T23/units/B1/documents/{b2_notice}").status_code == 404
    plan = client.get("/campaigns/T23/units/G1/documents/ke-hoach")
    assert plan.status_code == 200 and "Chi bộ khu phố 1" in plan.text
    assert client.get("/campaigns/T23/units/B2/documents/ke-hoach").status_code == 404


def test_a_secretary_is_refused_other_units_and_their_documents_and_it_is_kept(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    run_town(town, tmp_path, "2023-05-22")
    client = console.login("bt.b1")
    assert client.get("/campaigns/T23/units/B1").status_code == 200
    b2_notice = notice_of(town, "B2")
    refused = [
        "/campaigns/T23/units/B2",
        "/campaigns/T23/units/G2",
        f"/campaigns/T23/units/B1/documents/{b2_notice}",
        f"/campaigns/T23/units/B2/documents/{b2_notice}",
    ]
    for path in refused:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Không được phép" in response.text
    with transaction(town) as session:
        kept = session.scalars(select(AccessRefusal.path).where(AccessRefusal.login == "bt.b1"))
        assert sorted(kept) == sorted(refused)


def test_the_escalations_page_forecasts_only_once_the_campaign_has_run(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    operator = console.login("vp.thiuy")
    before = text(operator.get("/campaigns/T23/escalations"))
    assert "dự báo có sau lần chạy đầu tiên" in before
    run_town(town, tmp_path, "2023-05-22")
    seen = text(operator.get("/campaigns/T23/escalations"))
    assert "Đang quá hạn, đã đôn đốc (5)" in seen
    assert "G2 Chi bộ Trường THCS Nguyễn Du Ban hành kế hoạch thực hiện 15/02/2023" in seen
    assert "2: M6 Võ Thị Hà, M7 Đặng Văn Hùng" in seen
    forecast = seen.split("Dự báo", 1)[1]
    assert "B2 Chi bộ khu phố 2 Tổ chức sinh hoạt chuyên đề 19/05/2023 Quá hạn" in forecast
    assert "Mức 1: báo cáo cấp trên trực tiếp" in forecast
    mine = text(console.login("bt.b1").get("/campaigns/T23/escalations"))
    assert "Phạm vi: Chi bộ khu phố 1" in mine
    assert "Đang quá hạn, đã đôn đốc (0)" in mine and "G2" not in mine


def test_a_name_holding_markup_is_shown_as_text(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    with transaction(town) as session:
        session.execute(update(Member).where(Member.code == "M4").values(full_name=SCRIPT))
        session.execute(update(Unit).where(Unit.code == "B2").values(name=f"Chi bộ {SCRIPT}"))
    run_town(town, tmp_path, "2023-05-22")
    client = console.login("vp.thiuy")
    for path in ("/campaigns/T23", "/campaigns/T23/units/B2", "/campaigns/T23/escalations"):
        page = client.get(path)
        assert page.status_code == 200
        assert SCRIPT not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path


def test_a_parent_lists_the_escalations_addressed_to_it_and_no_others(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    """An escalation of B2 is filed under B2 and addressed to G1: G1's page lists it among its
    notices, with its register number; B2's own reminders, addressed to B2, are not listed."""
    run_town(town, tmp_path, "2023-05-22", "2023-05-31")
    with transaction(town) as session:
        rows = session.execute(
            select(Document.id, Document.context)
            .join(Unit, Unit.id == Document.unit_id)
            .where(Unit.code == "B2", Document.kind.like("notice%"))
        ).all()
    to_g1 = [(id_, str(c["number"])) for id_, c in rows if c.get("recipient") == "G1"]
    assert to_g1, rows
    client = console.login("vp.thiuy")
    listed = client.get("/campaigns/T23/units/G1").text.split("Công văn gửi đơn vị", 1)[1]
    for id_, number in to_g1:
        assert f"/documents/{id_}" in listed and html.escape(number) in listed
    to_b2 = [id_ for id_, c in rows if c.get("recipient") != "G1"]
    assert to_b2, rows
    assert not any(f'/documents/{id_}"' in listed for id_ in to_b2)
