"""The console in a real browser (issue 22's acceptance): Debian's Chromium driven by Playwright
(from PyPI; no browser downloaded). A branch secretary records a session and three
self-assessments; the town's operator runs the campaign at a date and sees that branch's duty
met and another branch escalated; a reviewer finds the secretary's facts in the audit trail
under her name, exports it to CSV and verifies the chain. Each screen is kept as a screenshot
in `console_screenshots/` under pytest's base temporary folder (printed)."""

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine

from campaign.reconcile import reconcile
from models.settings import get_settings
from tests.web.console_routes import add_units
from tests.web.console_server import PASSWORD, Console

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# B1 holds M1 and M2 (M3 is exempt): a third member to assess, added to this test's town only.
THIRD = ["M8", "Lý Thị Mai", "B1", "no", "", "active"]
ASSESSED = ["M1", "M2", "M8"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, Debian's."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go (under pytest's base temporary folder, printed)."""
    folder = tmp_path_factory.getbasetemp() / "console_screenshots"
    folder.mkdir(exist_ok=True)
    print(f"\nconsole screenshots: {folder}")
    return folder


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Runs in the console's own process (no Prefect worker in this test)."""
    monkeypatch.setenv("CAMPAIGN_CONSOLE_RUNS", "in-process")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _shot(page: Page, screens: Path, name: str) -> None:
    page.screenshot(path=screens / f"{name}.png", full_page=True)


def _log_in(browser: Browser, console: Console, login: str) -> Page:
    context = browser.new_context(base_url=console.url, accept_downloads=True, locale="vi-VN")
    page = context.new_page()
    page.goto("/campaigns/T23")  # an anonymous visitor is sent to the login page
    expect(page).to_have_url(f"{console.url}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{console.url}/campaigns/T23")  # the only campaign, opened
    return page


def _secretary_records(browser: Browser, console: Console, screens: Path) -> None:
    page = _log_in(browser, console, "bt.b1")
    _shot(page, screens, "01-secretary-dashboard")
    page.goto("/campaigns/T23/units/B1/record")
    _shot(page, screens, "02-secretary-record-form")
    held = page.locator("form", has=page.locator("input[name=form][value=session]"))
    held.locator("input[name=date]").fill("2023-05-10")
    held.locator("input[name=note]").fill("Sinh hoạt chuyên đề quý II")
    held.get_by_role("button", name="Ghi nhận buổi sinh hoạt").click()
    expect(page.locator(".flash.ok")).to_contain_text("Đã ghi nhận 1")
    _shot(page, screens, "03-secretary-session-recorded")
    assessed = page.locator("form", has=page.locator("input[name=form][value=assessments]"))
    assessed.locator("select[name=kind]").select_option("submitted")
    assessed.locator("input[name=date]").fill("2023-05-10")
    for code in ASSESSED:
        assessed.locator(f"input[name=member][value={code}]").check()
    assessed.get_by_role("button", name="Ghi nhận các đảng viên đã chọn").click()
    expect(page.locator(".flash.ok")).to_contain_text("Đã ghi nhận 3")
    _shot(page, screens, "04-secretary-assessments-recorded")


def _operator_runs(browser: Browser, console: Console, screens: Path) -> None:
    page = _log_in(browser, console, "vp.thiuy")
    page.goto("/campaigns/T23/runs")
    page.fill("input[name=as_of]", "2023-05-31")
    page.get_by_role("button", name="Chạy đợt").click()
    expect(page.get_by_text("Đã chạy xong.")).to_be_visible(timeout=300_000)
    _shot(page, screens, "05-operator-run-ended")
    page.goto("/campaigns/T23")
    _shot(page, screens, "06-operator-dashboard")
    page.goto("/campaigns/T23/units/B1")
    duties = page.locator("h2:has-text('Nhiệm vụ của đơn vị') + .table-wrap")
    expect(duties.locator(".state.met")).not_to_have_count(0)  # its session: met
    expect(duties.locator(".state.overdue, .state.escalated")).to_have_count(0)
    _shot(page, screens, "07-operator-branch-B1-met")
    page.goto("/campaigns/T23/units/B2")
    duties = page.locator("h2:has-text('Nhiệm vụ của đơn vị') + .table-wrap")
    expect(duties.locator(".state.escalated")).not_to_have_count(0)
    _shot(page, screens, "08-operator-branch-B2-escalated")


def _reviewer_checks(browser: Browser, console: Console, screens: Path) -> list[dict[str, str]]:
    page = _log_in(browser, console, "ubkt")
    page.goto("/campaigns/T23/audit")
    page.fill("input[name=actor]", "bt.b1")
    page.get_by_role("button", name="Lọc").click()
    rows = page.locator("table.audit tr")
    for code in ASSESSED:
        expect(rows.filter(has_text="bt.b1").filter(has_text=code)).not_to_have_count(0)
    _shot(page, screens, "09-reviewer-audit-by-secretary")
    with page.expect_download() as download:
        page.get_by_text("CSV (mở bằng Excel)").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    page.goto("/campaigns/T23/audit/verify")
    expect(page.get_by_text("Chuỗi nhật ký nguyên vẹn.")).to_be_visible()
    _shot(page, screens, "10-reviewer-chain-verified")
    return list(csv.DictReader(io.StringIO(exported)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_secretary_an_operator_and_a_reviewer_in_chromium(
    browser: Browser,
    console: Console,
    town: Engine,
    screens: Path,
    in_process: None,
    tmp_path: Path,
) -> None:
    add_units(town, tmp_path / "more", [], [THIRD])
    reconcile(town, "T23", dt.date(2023, 2, 1), "vp.thiuy")  # the plan deployed on time
    _secretary_records(browser, console, screens)
    _operator_runs(browser, console, screens)
    exported = _reviewer_checks(browser, console, screens)
    by_secretary = [row for row in exported if row["actor"] == "bt.b1"]
    assert {row["member"] for row in by_secretary} >= set(ASSESSED)
    recorded = [r for r in by_secretary if (r["entity"], r["trigger"]) == ("fact", "record")]
    assert [r["unit"] for r in recorded if "session_held" in r["reason"]] == ["B1"]
    assert all(row["actor"] == "bt.b1" for row in exported)  # the filter, exported with it
    assert len(list(screens.glob("*.png"))) >= 10
