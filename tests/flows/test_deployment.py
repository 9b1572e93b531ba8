"""The operator's path of the README against a real local Prefect server and process worker:
create the work pool, deploy everything, trigger the on-demand deployment, let a worker run it,
and find the run's effect in our database."""

import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import ClassVar

import pytest
import yaml
from prefect import Flow
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.orchestration import SyncPrefectClient
from prefect.events import Event
from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter
from sqlalchemy import select

from campaign.notices import LADDER_TITLES
from flows.campaign_flow import campaign_flow
from flows.prefect_server import local_prefect_server, wait_healthy
from models.campaigns import Campaign
from models.db import make_engine, migrate, transaction
from models.settings import get_settings
from models.views import RunResult
from tests.town import load_town

ROOT = Path(__file__).parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One local Prefect server for this module's tests; its API URL. Started the demo's way:
    the URL at once, its health awaited before the first use."""
    with local_prefect_server(tmp_path_factory.mktemp("prefect"), ready=False) as api:
        wait_healthy(api)
        # The runs' partitions in their own process (tests/flows/test_fanout.py: on workers).
        os.environ["CAMPAIGN_PARTITION_RUNS"] = "in-process"
        get_settings.cache_clear()
        try:
            yield api
        finally:
            os.environ.pop("CAMPAIGN_PARTITION_RUNS")
            get_settings.cache_clear()


def _prefect(*args: str) -> str:
    result = subprocess.run(
        [PREFECT, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_prefect_yaml_schedules_the_daily_run_in_vietnam() -> None:
    deployments = {
        d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    }
    assert deployments["daily"]["schedules"] == [
        {"cron": "0 6 * * *", "timezone": "Asia/Ho_Chi_Minh", "active": True}
    ]
    assert deployments["on-demand"]["entrypoint"] == "flows/campaign_flow.py:campaign_flow"
    assert deployments["daily"]["entrypoint"] == "flows/daily.py:daily_campaigns"
    for deployment in deployments.values():  # each entrypoint names a flow that exists
        path, name = deployment["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert isinstance(getattr(module, name), Flow)


def test_a_worker_runs_the_on_demand_deployment(tmp_path: Path, prefect_api: str) -> None:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    engine = make_engine(url)
    migrate(engine)
    load_town(engine, tmp_path)
    _prefect("work-pool", "create", "campaign", "--type", "process")
    _prefect("--no-prompt", "deploy", "--all")
    _prefect(
        "deployment",
        "run",
        "campaign/on-demand",
        "--param",
        "code=T23",
        "--param",
        "as_of=2023-05-22",
        "--param",
        f"database_url={url}",
    )
    _prefect("worker", "start", "--pool", "campaign", "--run-once")
    with transaction(engine) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.code == "T23")).one()
        assert (campaign.state, str(campaign.last_run_on)) == ("reporting", "2023-05-22")
    engine.dispose()


def _run_with(events_per: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> RunResult:
    """Campaign T23 of the test town in a database of its own, run at 22/05/2023 (notices
    overdue) with events per `events_per`."""
    monkeypatch.setenv("CAMPAIGN_EVENTS_PER", events_per)
    get_settings.cache_clear()
    url = f"sqlite:///{folder / 'campaign.db'}"
    engine = make_engine(url)
    migrate(engine)
    load_town(engine, folder)
    try:
        return campaign_flow("T23", dt.date(2023, 5, 22), "tester", url)
    finally:
        get_settings.cache_clear()
        engine.dispose()


@pytest.mark.parametrize("events_per", ["notice", "step"])
def test_a_run_in_this_process_is_recorded_by_the_local_server(
    tmp_path: Path, prefect_api: str, events_per: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the bench relies on (the demo's commands are child processes, which the exported
    PREFECT_API_URL already reaches): a flow run in this process goes to the server started
    here, not to a temporary one of its own; that server then holds the run, its artifacts and
    its notices as events: one per notice with the unit and level as resource labels, or (with
    CAMPAIGN_EVENTS_PER=step) one per ladder step and level naming the late units."""
    result = _run_with(events_per, tmp_path, monkeypatch)
    assert result.notices and result.flow_run
    expected = {
        (f"campaign.T23.unit.{n.unit}", n.unit, str(n.level), n.document) for n in result.notices
    }
    steps = {(n.step, n.level) for n in result.notices}
    with SyncPrefectClient(prefect_api) as client:  # that server, whatever this process's settings
        run = client.read_flow_run(uuid.UUID(result.flow_run))
        assert run.state is not None and run.state.is_completed()
        keys = {a.key for a in client.read_artifacts()}
        assert {"t23-progress", "t23-summary"} <= keys
        found: set[tuple[str, str, str, str]] = set()
        events: list[Event] = []
        deadline = time.monotonic() + 60  # the server persists events in batches
        while found != expected and time.monotonic() < deadline:
            time.sleep(0.5)
            events = client.read_events(
                EventFilter(
                    event=EventNameFilter(prefix=["campaign.obligation."]),
                    related=EventRelatedFilter(id=[f"prefect.flow-run.{result.flow_run}"]),
                ),
                limit=50,  # the API's largest page; the town issues fewer notices
            ).events
            found = _announced(events, events_per)
    assert found == expected
    assert len(events) == (len(expected) if events_per == "notice" else len(steps))


def _announced(events: list[Event], events_per: str) -> set[tuple[str, str, str, str]]:
    """(unit resource, unit, level, document) of every notice the events announce."""
    if events_per == "notice":
        return {
            (
                e.resource.id,
                e.resource["campaign.unit"],
                e.resource["campaign.level"],
                str(e.payload["document"]),
            )
            for e in events
        }
    found = set()
    for e in events:  # an event is one step and level: a unit is named once in it
        documents = {n["unit"]: str(n["document"]) for n in e.payload["notices"]}
        found |= {
            (r.id, r["campaign.unit"], r["campaign.level"], documents[r["campaign.unit"]])
            for r in e.related
            if r.role == "late-unit"
        }
    return found


class _Inbox(BaseHTTPRequestHandler):
    """A webhook's receiving end: keeps the JSON body of every POST."""

    received: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def inbox(
    prefect_api: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[dict[str, str]]]:
    """The messages of docs/automations.yaml, created on the module's server the README's way
    around a custom webhook block that posts to a receiver in this process."""
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Inbox)
    Thread(target=receiver.serve_forever, daemon=True).start()
    block = CustomWebhookNotificationBlock(
        name="campaign",
        url=f"http://127.0.0.1:{receiver.server_port}/notify",
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
    ).save("campaign-test")
    automations = tmp_path_factory.mktemp("automations") / "automations.yaml"
    text = (ROOT / "docs" / "automations.yaml").read_text(encoding="utf-8")
    automations.write_text(text.replace("NOTIFICATION_BLOCK_ID", str(block)), encoding="utf-8")
    assert "Created 2 automation(s)" in _prefect(
        "automation", "create", "--from-file", str(automations)
    )
    yield _Inbox.received
    receiver.shutdown()


def _messages_of(
    inbox: list[dict[str, str]], result: RunResult, count: int
) -> list[dict[str, str]]:
    """The messages that name `result`'s flow run, once `count` of them have come."""
    deadline = time.monotonic() + 60  # events are persisted, then triggers act, in batches
    mine: list[dict[str, str]] = []
    while len(mine) < count and time.monotonic() < deadline:
        time.sleep(0.5)
        mine = [m for m in list(inbox) if f"({result.flow_run})" in m["body"]]
    return mine


def test_the_automations_send_a_message_for_every_notice(
    tmp_path: Path, prefect_api: str, inbox: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run_with("notice", tmp_path, monkeypatch)
    assert result.notices
    messages = _messages_of(inbox, result, len(result.notices))
    assert sorted(m["subject"] for m in messages) == sorted(
        f"[T23] {LADDER_TITLES[n.step]} — {n.unit_name}" for n in result.notices
    )
    late = "; đảng viên chưa nộp bản tự soi rọi, tự nhận xét: {}"
    assert sorted(m["body"] for m in messages) == sorted(
        f"{LADDER_TITLES[n.step]} ngày 22/05/2023 gửi {n.unit_name} ({n.unit}, mức {n.level}), "
        f"đợt T23.\nNội dung chưa hoàn thành: {len(n.obligations)}"
        f"{late.format(n.members) if n.members else ''}.\nMã văn bản: {n.document}\n"
        + _run_line(prefect_api, result)
        for n in result.notices
    )


def test_the_automations_send_a_message_for_every_step_and_level(
    tmp_path: Path, prefect_api: str, inbox: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run_with("step", tmp_path, monkeypatch)
    steps: dict[tuple[str, int], list[str]] = {}
    for n in result.notices:
        steps.setdefault((n.step, n.level), []).append(f"- {n.unit_name} ({n.unit})")
    messages = _messages_of(inbox, result, len(steps))
    assert sorted(m["subject"] for m in messages) == sorted(
        f"[T23] {LADDER_TITLES[step]}, mức {level}: {len(units)} đơn vị"
        for (step, level), units in steps.items()
    )
    assert sorted(m["body"] for m in messages) == sorted(
        "\n".join(
            [
                f"{LADDER_TITLES[step]} ngày 22/05/2023, mức {level}, đợt T23:",
                *units,
                _run_line(prefect_api, result),
            ]
        )
        for (step, level), units in steps.items()
    )


def _run_line(prefect_api: str, result: RunResult) -> str:
    """A message's last line: the Prefect flow run that issued the notices."""
    with SyncPrefectClient(prefect_api) as client:
        name = client.read_flow_run(uuid.UUID(result.flow_run)).name
    return f"Lượt chạy Prefect: {name} ({result.flow_run})"
