"""PostgreSQL roles: the everyday role `campaign db grant` sets up runs a campaign's whole work,
and cannot alter, disable or get past what keeps the audit append-only."""

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from flows.campaign_flow import campaign_flow
from models.audit import AuditEvent
from models.db import make_engine, transaction
from states.audit_chain import append_events, verify_chain
from tests.cli_process import run_cli
from tests.factories import audit_event
from tests.scenario import ON_TIME
from tests.scenario import record_facts as _facts
from tests.town import load_town

_numbers = itertools.count()
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def everyday(engine: Engine, postgres_admin_url: str) -> Iterator[str]:
    """A login role granted its everyday privileges by `campaign db grant`; yields its URL."""
    role = f"campaign_app_{os.getpid()}_{next(_numbers)}"
    admin = make_engine(postgres_admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # No password: the test cluster trusts local logins, and a run refuses a URL holding one.
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
    owner_url = engine.url.render_as_string(hide_password=False)
    granted = run_cli("db", "grant", role, database_url=owner_url)
    assert granted.returncode == 0, granted.stderr
    assert f"granted {role} its everyday privileges" in granted.stdout
    url = engine.url.set(username=role, password=None)
    yield url.render_as_string(hide_password=False)
    with engine.begin() as connection:  # its privileges in the test's database
        connection.execute(text(f"DROP OWNED BY {role}"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP ROLE {role}"))
    admin.dispose()


def test_the_everyday_role_runs_a_campaign(everyday: str, tmp_path: Path) -> None:
    app = make_engine(everyday)
    try:
        load_town(app, tmp_path)  # units, members (audited), the plan
        _facts(app, tmp_path, "on-time.csv", ON_TIME)
        result = campaign_flow("T23", dt.date(2023, 5, 20), "tester", everyday)
        assert result.transitions > 0 and result.notices
        with transaction(app) as session:
            events = session.scalar(select(func.count()).select_from(AuditEvent))
            assert events and verify_chain(session) == events
    finally:
        app.dispose()
    for command in (("audit", "verify"), ("audit", "head"), ("status", "T23")):
        done = run_cli(*command, database_url=everyday)
        assert done.returncode == 0, done.stderr


FORBIDDEN = {
    "disable the triggers": "ALTER TABLE audit_event DISABLE TRIGGER USER",
    "drop a trigger": "DROP TRIGGER audit_event_no_delete ON audit_event",
    "replace the guard": "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
    "take the table": "ALTER TABLE audit_event OWNER TO CURRENT_USER",
    "delete an event": "DELETE FROM audit_event WHERE seq = 1",
    "update an event": "UPDATE audit_event SET actor = 'mallory' WHERE seq = 1",
    "truncate the audit": "TRUNCATE audit_event",
    "skip every trigger": "SET session_replication_role = replica",
}


@pytest.mark.parametrize("attempt", list(FORBIDDEN))
def test_the_everyday_role_cannot_touch_the_audit(
    engine: Engine, everyday: str, tmp_path: Path, attempt: str
) -> None:
    with transaction(engine) as session:  # an audit with events, written by the owner
        append_events(session, [audit_event(n) for n in range(3)])
    app = make_engine(everyday)
    try:
        refused = pytest.raises(ProgrammingError, match=r"must be owner|permission denied")
        with refused, app.begin() as connection:
            connection.execute(text(FORBIDDEN[attempt]))
        with transaction(app) as session:
            assert verify_chain(session) == 3
    finally:
        app.dispose()


def test_grant_refuses_a_role_that_could_undo_the_guards(engine: Engine) -> None:
    owner_url = engine.url.render_as_string(hide_password=False)
    superuser = make_url(owner_url).username or "postgres"
    refused = run_cli("db", "grant", superuser, database_url=owner_url)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: role {superuser} is a superuser: the everyday role must be another role, "
        "one that cannot disable the audit's triggers\n"
    )
    unknown = run_cli("db", "grant", "nobody_here", database_url=owner_url)
    assert unknown.returncode == 1 and "role nobody_here does not exist" in unknown.stderr
