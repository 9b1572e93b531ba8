"""The console's audit review, served for real: the trail filtered by actor, unit and dates
within the account's reach, paged; its CSV and JSON exports against `campaign audit` run as a
process; the chain verified, then tampered with; refusals recorded."""

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select, update

from campaign.access import add_account
from campaign.exports import FORMULA_STARTS
from campaign.intake.fact_sheet import import_facts
from campaign.reconcile import reconcile
from models.accounts import AccessRefusal, Role
from models.audit import AuditEvent
from models.db import transaction
from tests.cli_process import run_cli
from tests.input_files import write_csv
from tests.scenario import FACT_HEADER, ON_TIME, RECORDED_LATE
from tests.states.test_tamper import attack
from tests.web.console_server import PASSWORD, Console

HYPERLINK = '=HYPERLINK("http://x")'
AUDIT = "/campaigns/T23/audit"
_SEQ = re.compile(r'<tr><td class="num">(\d+)</td>')
_NEXT = re.compile(r'href="(/campaigns/T23/audit\?[^"]*)" rel="next"')


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _facts(engine: Engine, folder: Path, name: str, rows: list[list[str]], actor: str) -> None:
    with transaction(engine) as session:
        path = write_csv(folder / name, FACT_HEADER, rows)
        import_facts("T23", path, session=session, actor=actor, today=dt.date(2026, 1, 1))


@pytest.fixture
def trail(town: Engine, console: Console, tmp_path: Path) -> Engine:
    """Facts recorded by two secretaries, and two runs by two actors: the office's account,
    and a name that is a spreadsheet formula."""
    _facts(town, tmp_path, "b1.csv", ON_TIME, "bt.b1")
    reconcile(town, "T23", dt.date(2023, 3, 15), "vp.thiuy")
    _facts(town, tmp_path, "b2.csv", RECORDED_LATE, "bt.g1")
    reconcile(town, "T23", dt.date(2023, 5, 22), HYPERLINK)
    return town


def _seqs(page: httpx.Response) -> list[int]:
    assert page.status_code == 200, page.text
    return [int(seq) for seq in _SEQ.findall(page.text)]


def _cli_json(engine: Engine, *options: str) -> list[dict[str, object]]:
    shown = run_cli("audit", "T23", *options, "--format", "json", database_url=_url(engine))
    assert shown.returncode == 0, shown.stderr
    events: list[dict[str, object]] = json.loads(shown.stdout)
    return events


def _refused(engine: Engine, login: str) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        query = select(AccessRefusal.method, AccessRefusal.path).where(AccessRefusal.login == login)
        return [(method, path) for method, path in session.execute(query)]


def test_the_trail_filtered_by_actor_shows_only_that_actors_events(
    trail: Engine, console: Console
) -> None:
    reviewer = console.login("ubkt")
    everything = _seqs(reviewer.get(AUDIT))
    office = reviewer.get(AUDIT, params={"actor": "vp.thiuy"})
    expected = [e["seq"] for e in _cli_json(trail, "--by", "vp.thiuy")]
    assert expected and _seqs(office) == expected
    assert set(everything) - set(expected), "the other actors' events are left out"
    assert "Văn phòng Thị ủy" in office.text, "the account's full name beside its login"
    secretary = reviewer.get(AUDIT, params={"actor": "bt.b1"})
    recorded = [e["seq"] for e in _cli_json(trail, "--by", "bt.b1")]
    assert recorded and _seqs(secretary) == recorded, "the facts under the secretary's name"
    assert "Nguyễn Văn An" in secretary.text
    formula = reviewer.get(AUDIT, params={"actor": HYPERLINK})
    assert _seqs(formula) == [e["seq"] for e in _cli_json(trail, "--by", HYPERLINK)]
    assert "=HYPERLINK(&#34;http://x&#34;)" in formula.text, "shown as text"


def test_pages_follow_each_other_to_the_end_of_the_trail(
    trail: Engine, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("campaign.audit_pages.PAGE_SIZE", 7)
    reviewer = console.login("vp.thiuy")
    address, seen, pages = AUDIT + "?since=01/03/2023", [], 0
    while address:
        page = reviewer.get(address.replace("&amp;", "&"))
        shown = _seqs(page)
        assert 0 < len(shown) <= 7
        seen += shown
        pages += 1
        found = _NEXT.search(page.text)
        address = found[1] if found else ""
    assert pages > 2
    assert seen == [e["seq"] for e in _cli_json(trail, "--since", "2023-03-01")]


def test_the_trail_is_kept_to_the_accounts_subtree(trail: Engine, console: Console) -> None:
    with transaction(trail) as session:
        add_account(
            session, "ubkt.g1", full_name="UBKT Đảng ủy phường", role=Role.reviewer, unit="G1",
            password=PASSWORD,
        )  # fmt: skip
    ward = console.login("ubkt.g1")
    own = _cli_json(trail, "--unit", "G1")
    assert own and _seqs(ward.get(AUDIT)) == [e["seq"] for e in own]
    assert all(e["unit"] in {"G1", "B1", "B2"} for e in own)
    b1 = _seqs(ward.get(AUDIT, params={"unit": "B1"}))
    assert b1 and b1 == [e["seq"] for e in _cli_json(trail, "--unit", "B1")]

    for params in ({"unit": "G2"}, {"unit": "TOWN"}, {"member": "M6"}):
        refused = ward.get(AUDIT, params=params)
        assert refused.status_code == 403, params
        assert "ngoài phạm vi" in refused.text
        assert ward.get(AUDIT + ".csv", params=params).status_code == 403
    assert _refused(trail, "ubkt.g1").count(("GET", AUDIT)) == 3
    town = console.login("ubkt")
    assert _seqs(town.get(AUDIT, params={"unit": "G2"})), "the town's reviewer reaches G2"
    listed = town.get("/campaigns/T23/refusals")
    assert listed.status_code == 200 and "ubkt.g1" in listed.text
    assert "UBKT Đảng ủy phường" in listed.text and "đơn vị G2 nằm ngoài phạm vi" in listed.text


def test_a_date_that_is_no_date_says_what_to_fix(trail: Engine, console: Console) -> None:
    reviewer = console.login("ubkt")
    wrong = reviewer.get(AUDIT, params={"since": "31/02/2023"})
    assert wrong.status_code == 400
    assert "“31/02/2023” không phải một ngày" in wrong.text
    assert "Xin ghi theo dạng ngày/tháng/năm (ví dụ 19/05/2023)" in wrong.text
    assert reviewer.get(AUDIT + ".json", params={"until": "hôm qua"}).status_code == 400
    iso = _seqs(reviewer.get(AUDIT, params={"since": "2023-05-01", "until": "2023-05-31"}))
    vietnamese = _seqs(reviewer.get(AUDIT, params={"since": "01/05/2023", "until": "31/05/2023"}))
    assert iso and iso == vietnamese


@pytest.mark.parametrize(
    ("params", "options"),
    [
        ({}, []),
        ({"unit": "B1", "since": "10/03/2023"}, ["--unit", "B1", "--since", "2023-03-10"]),
        (
            {"actor": "vp.thiuy", "until": "2023-04-01"},
            ["--by", "vp.thiuy", "--until", "01/04/2023"],
        ),
        ({"member": "M1"}, ["--member", "M1"]),
    ],
)
def test_the_exports_are_what_the_cli_writes(
    trail: Engine, console: Console, params: dict[str, str], options: list[str]
) -> None:
    reviewer = console.login("ubkt")
    url = _url(trail)
    exported = reviewer.get(AUDIT + ".csv", params=params)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="nhat-ky-T23[-\w]*\.csv"', exported.headers["content-disposition"]
    )
    cli = run_cli("audit", "T23", *options, "--format", "csv", database_url=url)
    assert cli.returncode == 0, cli.stderr
    # The process's output is read as text, its "\r\n" line ends as "\n".
    assert exported.text.replace("\r\n", "\n") == cli.stdout
    assert len(cli.stdout.splitlines()) > 1

    as_json = reviewer.get(AUDIT + ".json", params=params)
    assert as_json.headers["content-type"].startswith("application/json")
    cli_json = run_cli("audit", "T23", *options, "--format", "json", database_url=url)
    assert as_json.text == cli_json.stdout
    assert json.loads(as_json.text) == json.loads(cli_json.stdout)


def test_a_formula_in_the_trail_is_text_in_the_csv(trail: Engine, console: Console) -> None:
    rows = list(csv.reader(io.StringIO(console.login("ubkt").get(AUDIT + ".csv").text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + HYPERLINK in cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]


def test_the_chain_is_verified_then_found_broken(trail: Engine, console: Console) -> None:
    reviewer = console.login("ubkt")
    with transaction(trail) as session:
        last = session.scalar(select(func.max(AuditEvent.seq)))
        head = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == last))
    intact = reviewer.get(AUDIT + "/verify")
    assert intact.status_code == 200
    assert "Chuỗi nhật ký nguyên vẹn" in intact.text
    assert f"{last}:{head}" in intact.text and "KHÔNG" not in intact.text
    with transaction(trail) as session:
        assert session.scalar(select(func.max(AuditEvent.seq))) == last, "verifying wrote nothing"

    with attack(trail) as connection:
        connection.execute(update(AuditEvent).where(AuditEvent.seq == 5).values(actor="kẻ gian"))
    broken = reviewer.get(AUDIT + "/verify")
    assert broken.status_code == 200
    assert "Chuỗi nhật ký KHÔNG còn nguyên vẹn" in broken.text
    assert "Sự kiện số 5 đã bị sửa" in broken.text
    assert "Chuỗi nhật ký nguyên vẹn" not in broken.text


def test_a_secretary_is_refused_every_audit_address(trail: Engine, console: Console) -> None:
    secretary = console.login("bt.b1")
    addresses = [
        AUDIT,
        AUDIT + ".csv",
        AUDIT + ".json",
        AUDIT + "/verify",
        "/campaigns/T23/refusals",
    ]
    for address in addresses:
        refused = secretary.get(address, params={"unit": "B1"})
        assert refused.status_code == 403, address
        assert "Không được phép" in refused.text
    assert sorted(_refused(trail, "bt.b1")) == sorted(("GET", a) for a in addresses)
