"""The database's password never reaches Prefect (issue 20, finding 6): a flow's parameter names
the database without it, and the worker finds the real URL in its environment or in a Prefect
Secret block (`flows/database_url.py`)."""

import datetime as dt
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from sqlalchemy import text
from sqlalchemy.engine import make_url

from campaign.run_record import list_runs
from flows.campaign_flow import campaign_flow
from flows.database_url import _secret_url, database_name
from models.db import make_engine, transaction
from models.errors import OutOfScope
from models.settings import get_settings
from tests.cli_process import CAMPAIGN
from tests.town import load_town

SECRET = "S3cret-0f-the-db"


@pytest.fixture
def secret_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The URL, its password included, of a role of its own on the test's PostgreSQL database
    (a SQLite URL has no password), the town loaded."""
    role = f"campaign_secret_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    name = make_url(database_url).database
    admin = make_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'"))
        connection.execute(text(f'GRANT ALL ON DATABASE "{name}" TO {role}'))
        connection.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
        connection.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    load_town(admin, tmp_path)
    admin.dispose()
    yield (
        make_url(database_url)
        .set(username=role, password=SECRET)
        .render_as_string(hide_password=False)
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_password_never_reaches_prefect(secret_url: str) -> None:
    """A run on a database whose URL holds a password: Prefect's flow run names the database
    without it, as do its logs."""
    ran = subprocess.run(
        [CAMPAIGN, "run", "T23", "--as-of", "2023-05-20", "--actor", "tester"],
        env={
            **os.environ,
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "CAMPAIGN_DATABASE_URL": secret_url,
            "COLUMNS": "200",
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert SECRET not in ran.stdout + ran.stderr
    engine = make_engine(secret_url)
    with transaction(engine) as session:
        flow_run_id = list_runs(session, "T23")[0].flow_run_id
    engine.dispose()
    assert flow_run_id
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(uuid.UUID(flow_run_id))
        logs = client.read_logs()
    assert flow_run.parameters["database_url"] == database_name(secret_url)
    assert SECRET not in json.dumps(flow_run.parameters, default=str)
    assert not [log for log in logs if SECRET in log.message]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_finds_the_password_where_prefect_does_not_publish_it(
    secret_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's ways run (the URL in its environment or in a Prefect Secret block, the
    parameter without the password); a parameter with a password is refused."""
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", secret_url)
    get_settings.cache_clear()
    try:
        again = campaign_flow("T23", dt.date(2023, 5, 21), "tester", database_name(secret_url))
        assert again.as_of == dt.date(2023, 5, 21)
        with pytest.raises(OutOfScope, match="holds a password") as refused:
            campaign_flow("T23", dt.date(2023, 5, 22), "tester", secret_url)
        assert SECRET not in str(refused.value)
        # Or a Prefect Secret block, the environment naming no database.
        monkeypatch.delenv("CAMPAIGN_DATABASE_URL")
        get_settings.cache_clear()
        Secret(value=secret_url).save(get_settings().database_secret_block, overwrite=True)
        _secret_url.cache_clear()
        third = campaign_flow("T23", dt.date(2023, 5, 22), "tester", database_name(secret_url))
        assert third.as_of == dt.date(2023, 5, 22)
    finally:
        Secret.delete(get_settings().database_secret_block)
        _secret_url.cache_clear()
        get_settings.cache_clear()
