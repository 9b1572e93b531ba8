"""Runs from the console: an operator of the whole campaign starts one at a date without the page
waiting for it (here in the console's process: CAMPAIGN_CONSOLE_RUNS=in-process, since the
tests' Prefect harness sets PREFECT_API_URL and `auto` would choose the deployment), follows
it to its result and its notices; its audit events carry the operator's login."""

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, func, select

from models.audit import AuditEvent
from models.db import transaction
from models.runs import Run
from models.settings import get_settings
from tests.web.console_server import Console, post_form
from web.run_jobs import through_deployment


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Runs in the console's own process, whatever PREFECT_API_URL says."""
    monkeypatch.setenv("CAMPAIGN_CONSOLE_RUNS", "in-process")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _follow(client: httpx.Client, address: str) -> httpx.Response:
    """The run's page, once the run has ended (it refreshes itself while it runs)."""
    deadline = time.monotonic() + 300
    while True:
        page = client.get(address)
        assert page.status_code == 200, page.text
        if "Đang chạy" not in page.text:
            return page
        assert '<meta http-equiv="refresh" content="3">' in page.text
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(1)


def test_an_operator_runs_the_campaign_at_a_date(
    console: Console, town: Engine, in_process: None
) -> None:
    client = console.login("vp.thiuy")
    assert 'name="as_of"' in client.get("/campaigns/T23/runs").text
    started = post_form(
        client, "/campaigns/T23/runs", {"as_of": "2023-05-22"}, token_from="/campaigns/T23/runs"
    )
    assert started.status_code == 303
    address = started.headers["location"]
    assert address.startswith("/campaigns/T23/runs/")
    page = _follow(client, address)
    assert "Đã chạy xong" in page.text and "22/05/2023" in page.text
    assert "quá hạn" in page.text  # the overdue notices of 22/05, listed
    with transaction(town) as session:
        run = session.scalars(select(Run)).one()
        actors = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.at == run.as_of)))
    assert run.actor == "vp.thiuy" and run.finished_at is not None
    assert actors == {"vp.thiuy"}
    listed = client.get("/campaigns/T23/runs")
    assert f'/campaigns/T23/runs/{run.id}"' in listed.text and "vp.thiuy" in listed.text
    record = client.get(f"/campaigns/T23/runs/{run.id}")
    assert record.status_code == 200 and "quá hạn" in record.text
    back = post_form(
        client, "/campaigns/T23/runs", {"as_of": "2023-05-01"}, token_from="/campaigns/T23/runs"
    )
    assert back.status_code == 400 and "go back in time" in back.text


def _runs(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Run)) or 0)


@pytest.mark.parametrize("login", ["bt.b1", "ubkt", "bt.g1"])
def test_only_an_operator_of_the_whole_campaign_starts_a_run(
    console: Console, town: Engine, in_process: None, login: str
) -> None:
    client = console.login(login)
    assert client.get("/campaigns/T23/runs").status_code == 403
    started = post_form(
        client, "/campaigns/T23/runs", {"as_of": "2023-05-22"}, token_from="/account/password"
    )
    assert started.status_code == 403
    assert _runs(town) == 0


def test_auto_runs_through_the_deployment_when_a_prefect_server_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("CAMPAIGN_CONSOLE_RUNS", "auto")
    get_settings.cache_clear()
    try:
        with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
            assert through_deployment()
        with temporary_settings(restore_defaults={PREFECT_API_URL}):
            assert not through_deployment()
    finally:
        get_settings.cache_clear()
