"""The operator's path of the README against a real local Prefect server and process worker:
create the work pool, deploy everything, trigger the on-demand deployment, let a worker run it,
and find the run's effect in our database."""

import os
import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy import select

from flows.prefect_server import local_prefect_server
from models.db import make_engine, migrate, transaction
from models.plans import Campaign
from tests.flows.conftest import load_town

ROOT = Path(__file__).parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")


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


def test_a_worker_runs_the_on_demand_deployment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    engine = make_engine(url)
    migrate(engine)
    load_town(engine, tmp_path)
    with local_prefect_server(tmp_path / "prefect"):
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
