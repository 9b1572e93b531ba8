"""Runs from the console: an operator of the whole campaign starts one at a date without the page
waiting for it (here in the console's process: CAMPAIGN_CONSOLE_RUNS=in-process, since the
tests' Prefect harness sets PREFECT_API_URL and `auto` would choose the deployment), follows
it to its result and its notices; its audit events carry the operator's login."""

import contextvars
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, func, select

from flows.prefect_server import local_prefect_server
from models.audit import AuditEvent
from models.db import make_engine, migrate, transaction
from models.runs import Run
from models.settings import get_settings
from tests.town import load_town
from tests.web.console_server import Console, add_accounts, post_form
from web.console import create_app
from web.run_jobs import through_deployment

ROOT = Path(__file__).parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")


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
    assert "Đảng viên tự soi rọi" in page.text and "đang báo cáo" in page.text  # the result
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
    for unknown in ("999", "0123abcd", str(uuid.uuid4())):
        assert client.get(f"/campaigns/T23/runs/{unknown}").status_code == 404, unknown


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


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local Prefect server for this module (PREFECT_API_URL of this process meanwhile)."""
    with local_prefect_server(tmp_path_factory.mktemp("prefect")) as api:
        yield api


@contextmanager
def _serving_here(engine: Engine) -> Iterator[Console]:
    """`serving`, its server thread in a copy of this context: Prefect's settings are a context
    variable, and a thread started bare would not see the server `prefect_api` configured (a
    console process reads PREFECT_API_URL from its environment when it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    here = contextvars.copy_context()
    thread = threading.Thread(target=here.run, args=(server.run,), daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the console did not start"
        time.sleep(0.02)
    try:
        yield Console(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _prefect(*args: str) -> None:
    done = subprocess.run(
        [PREFECT, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_run_through_the_on_demand_deployment(
    tmp_path: Path, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a Prefect server configured, the run is a flow run of `campaign/on-demand` that a
    worker runs; its page follows the flow run, links to it, and shows the result."""
    engine = make_engine(f"sqlite:///{tmp_path / 'campaign.db'}")
    migrate(engine)
    add_accounts(load_town(engine, tmp_path))
    _prefect("work-pool", "create", "campaign", "--type", "process")
    _prefect("--no-prompt", "deploy", "--all")
    monkeypatch.setenv("CAMPAIGN_CONSOLE_RUNS", "auto")
    get_settings.cache_clear()
    try:
        with _serving_here(engine) as console:
            client = console.login("vp.thiuy")
            started = post_form(
                client,
                "/campaigns/T23/runs",
                {"as_of": "2023-05-22"},
                token_from="/account/password",
            )
            assert started.status_code == 303
            flow_run = started.headers["location"].rsplit("/", 1)[1]
            waiting = client.get(started.headers["location"])
            assert "Prefect: Scheduled" in waiting.text and 'http-equiv="refresh"' in waiting.text
            assert f"/runs/flow-run/{flow_run}" in waiting.text
            _prefect("worker", "start", "--pool", "campaign", "--run-once")
            page = _follow(client, started.headers["location"])
    finally:
        get_settings.cache_clear()
    assert "Đã chạy xong" in page.text and "quá hạn" in page.text
    with transaction(engine) as session:
        run = session.scalars(select(Run)).one()
    assert (run.actor, run.flow_run_id) == ("vp.thiuy", str(uuid.UUID(flow_run)))
    engine.dispose()
