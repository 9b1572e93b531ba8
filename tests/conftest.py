"""Fixtures: a real database per test, on SQLite and on PostgreSQL, migrated by Alembic.

Under pytest-xdist each worker is a process with session fixtures of its own: its own throwaway
PostgreSQL cluster (its own data folder, socket folder and free port), its own SQLite and
PostgreSQL templates, its own Prefect test harness (a server on a free port, a temporary
database); nothing is shared but the machine. The controller sums the workers' counts of
database-backed tests.
"""

import itertools
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from devtools.postgres import throwaway_cluster
from models.db import make_engine, migrate
from tests.town import load_town

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

BACKENDS = ["sqlite", "postgresql"]
_ran: Counter[str] = Counter()
_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The admin URL of a PostgreSQL server: CAMPAIGN_TEST_POSTGRES_URL, or a throwaway one."""
    if url := os.environ.get("CAMPAIGN_TEST_POSTGRES_URL"):
        yield url
        return
    with throwaway_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> Iterator[str]:
    """A PostgreSQL database migrated to the newest schema, cloned for each test. Named by the
    process: workers (or whole sessions) sharing CAMPAIGN_TEST_POSTGRES_URL's server each
    clone their own."""
    name = f"campaign_template_{os.getpid()}"
    admin = make_engine(postgres_admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    migrate(engine)
    engine.dispose()
    yield name
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database of the parametrised backend."""
    _ran[request.param] += 1
    if request.param == "sqlite":
        path = tmp_path / "campaign.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"campaign_test_{os.getpid()}_{next(_numbers)}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test's fresh database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's counts to the controller."""
    if (output := getattr(session.config, "workeroutput", None)) is not None:
        output["database_tests"] = dict(_ran)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is not loaded
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: add up the counts of a worker that finished."""
    _ran.update(getattr(node, "workeroutput", {}).get("database_tests", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on each database backend (on every worker together)."""
    if _ran:
        counts = ", ".join(f"{_ran[b]} on {b}" for b in BACKENDS)
        terminalreporter.write_line(f"database-backed tests: {counts}")


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for every flow run of the session."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def town(engine: Engine, tmp_path: Path) -> Engine:
    """The test town in the test's database."""
    return load_town(engine, tmp_path)
