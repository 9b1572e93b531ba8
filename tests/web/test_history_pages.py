"""A member's page and a unit's history through the real server: the dated changes of the roster
in Vietnamese words, with the day each holds from and who made it; a member seen by an account
whose subtree holds them now or held them once, refused (403, recorded) by any other."""

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from campaign.intake.member_roster import import_members
from campaign.intake.unit_tree import import_units
from campaign.reconcile import reconcile
from models.accounts import AccessRefusal
from models.db import transaction
from tests.input_files import MEMBER_HEADER, UNIT_HEADER, write_csv
from tests.town import MEMBERS, UNITS
from tests.web.console_routes import FORMULA, HOSTILE_MEMBERS, HOSTILE_UNITS, SCRIPT, add_units
from tests.web.console_server import Console
from tests.web.test_pages import text

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _members(
    engine: Engine,
    path: Path,
    changes: dict[str, dict[int, str]],
    since: str,
    actor: str,
    extra: list[list[str]] | None = None,
) -> None:
    """The town's roster (and `extra` rows) with `changes` ({member: {column: value}}), each
    changed row dated `since`, imported by `actor`."""
    rows = [
        [*(changes.get(m[0], {}).get(i, cell) for i, cell in enumerate(m)), since]
        if m[0] in changes
        else [*m, ""]
        for m in [*MEMBERS, *(extra or [])]
    ]
    with transaction(engine) as session:
        written = write_csv(path, [*MEMBER_HEADER, "since"], rows)
        import_members(written, session=session, on=dt.date(2023, 6, 1), actor=actor)


def _units(
    engine: Engine,
    path: Path,
    names: dict[str, str],
    since: str,
    actor: str,
    extra: list[list[str]],
) -> None:
    """The town's units (and `extra` rows) with `names` ({unit: new name}), dated `since`."""
    rows = [
        [u[0], names[u[0]], *u[2:], since] if u[0] in names else [*u, ""] for u in [*UNITS, *extra]
    ]
    with transaction(engine) as session:
        written = write_csv(path, [*UNIT_HEADER, "since"], rows)
        import_units(written, session=session, on=dt.date(2023, 6, 1), actor=actor)


def _refusals(engine: Engine, login: str, path: str) -> int:
    with transaction(engine) as session:
        query = select(AccessRefusal).where(AccessRefusal.login == login)
        return sum(1 for row in session.scalars(query) if row.path == path)


def test_a_moved_member_s_page_shows_the_move_its_date_and_who_made_it(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    reconcile(town, "T23", dt.date(2023, 2, 1), "tester")  # the campaign's duties deployed
    secretary = console.login("bt.b1")
    assert secretary.get("/campaigns/T23/members/M4").status_code == 403  # in B2, not yet moved
    _members(town, tmp_path / "moved.csv", {"M4": {2: "B1"}}, "2023-04-10", "vp.thiuy")
    _members(town, tmp_path / "exempt.csv", {"M4": {2: "B1", 5: "exempt"}}, "2023-04-20", "clerk")
    page = secretary.get("/campaigns/T23/members/M4")
    seen = text(page)
    assert "Phạm Thị Dung" in seen and "Đơn vị sinh hoạt B1 Chi bộ khu phố 1" in seen
    assert "Tình trạng Miễn sinh hoạt" in seen and "Lãnh đạo, quản lý Không" in seen
    assert '<a href="/campaigns/T23/units/B1">B1 Chi bộ khu phố 1</a>' in page.text
    assert "Đảng viên tự soi rọi, tự nhận xét B2 19/05/2023 Chưa đến hạn" in seen
    history = seen.split("Lịch sử đảng viên", 1)[1]
    assert "10/04/2023 Chuyển sinh hoạt: B2 → B1 Văn phòng Thị ủy" in history
    assert "20/04/2023 Tình trạng: đang sinh hoạt → miễn sinh hoạt clerk" in history
    assert history.index("10/04/2023") < history.index("20/04/2023")
    # the secretary of G2, whose subtree M4 never was in, is refused, and that is recorded
    assert _refusals(town, "bt.g2", "/campaigns/T23/members/M4") == 0
    assert console.login("bt.g2").get("/campaigns/T23/members/M4").status_code == 403
    assert _refusals(town, "bt.g2", "/campaigns/T23/members/M4") == 1


def test_a_member_who_moved_out_is_still_seen_by_their_old_branch(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    _members(town, tmp_path / "out.csv", {"M2": {2: "G2"}}, "2023-03-01", "clerk")
    old_branch = console.login("bt.b1")
    page = old_branch.get("/campaigns/T23/members/M2")
    seen = text(page)
    assert "01/03/2023 Chuyển sinh hoạt: B1 → G2 clerk" in seen
    assert "/units/G2" not in page.text  # G2 lies outside B1's subtree: named, not linked
    assert old_branch.get("/campaigns/T23/units/G2").status_code == 403
    assert console.login("bt.g2").get("/campaigns/T23/members/M2").status_code == 200
    assert old_branch.get("/campaigns/T23/members/M6").status_code == 403  # never in B1
    assert old_branch.get("/campaigns/T23/members/NOBODY").status_code == 404


def test_a_renamed_unit_shows_in_its_history_and_its_members_link_to_their_pages(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    _units(town, tmp_path / "units.csv", {"B1": "Chi bộ khu phố Một"}, "2023-04-15", "vp.thiuy", [])
    page = console.login("bt.b1").get("/campaigns/T23/units/B1")
    history = text(page).split("Lịch sử đơn vị", 1)[1]
    assert "15/04/2023 Đổi tên: Chi bộ khu phố 1 → Chi bộ khu phố Một Văn phòng Thị ủy" in history
    assert '<a href="/campaigns/T23/members/M2">Trần Thị Bình</a>' in page.text
    unchanged = text(console.login("vp.thiuy").get("/campaigns/T23/units/B2"))
    assert "Không có thay đổi nào từ khi nhập danh sách đơn vị." in unchanged


def test_hostile_names_in_a_member_s_and_a_unit_s_history_are_shown_as_text(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    add_units(town, tmp_path / "more", HOSTILE_UNITS, HOSTILE_MEMBERS)
    hostile = f"Chi bộ mới {SCRIPT}"
    _units(town, tmp_path / "bx.csv", {"BX": hostile}, "2023-04-01", SCRIPT, HOSTILE_UNITS)
    _members(town, tmp_path / "mx9.csv", {"MX9": {2: "B2"}}, "2023-04-02", FORMULA, HOSTILE_MEMBERS)
    operator = console.login("vp.thiuy")
    for address in ("/campaigns/T23/members/MX9", "/campaigns/T23/units/BX"):
        page = operator.get(address)
        assert page.status_code == 200, address
        assert "<script>alert" not in page.text, address
        assert ESCAPED in page.text, address
    member = text(operator.get("/campaigns/T23/members/MX9"))
    assert f"02/04/2023 Chuyển sinh hoạt: BX → B2 {FORMULA}" in member
    unit = text(operator.get("/campaigns/T23/units/BX")).split("Lịch sử đơn vị", 1)[1]
    assert f"01/04/2023 Đổi tên: Chi bộ {SCRIPT} {FORMULA} → {hostile} {SCRIPT}" in unit
