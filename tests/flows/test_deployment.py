"""The operator's path of the README against a real local Prefect server and process worker:
create the work pool, deploy everything, trigger the on-demand deployment, let a worker run it,
and find the run's effect in our database."""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import SyncPrefectClient
from prefect.events import Event
from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter
from sqlalchemy import select

from flows.campaign import campaign_flow
from flows.prefect_server import local_prefect_server, wait_healthy
from models.db import make_engine, migrate, transaction
from models.plans import Campaign
from models.settings import get_settings
from tests.flows.conftest import load_town

ROOT = Path(__file__).parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One local Prefect server for this module's tests; its API URL. Started the demo's way:
    the URL at once, its health awaited before the first use."""
    with local_prefect_server(tmp_path_factory.mktemp("prefect"), ready=False) as api:
        wait_healthy(api)
        yield api


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
    assert deployments["on-demand"]["entrypoint"] == "flows/campaign.py:campaign_flow"


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
        "as_of=2023-05-20",
        "--param",
        f"database_url={url}",
    )
    _prefect("worker", "start", "--pool", "campaign", "--run-once")
    with transaction(engine) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.code == "T23")).one()
        assert (campaign.state, str(campaign.last_run_on)) == ("reporting", "2023-05-20")
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
    monkeypatch.setenv("CAMPAIGN_EVENTS_PER", events_per)
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    engine = make_engine(url)
    migrate(engine)
    load_town(engine, tmp_path)
    try:
        result = campaign_flow("T23", dt.date(2023, 5, 20), "tester", url)
    finally:
        get_settings.cache_clear()
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
    engine.dispose()
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
