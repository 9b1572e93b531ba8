"""Backups an office can make (issue 20): `campaign db backup` and `campaign db restore` on a
campaign that has run, through the real command; a tampered backup is never restored."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from campaign.backup import backup_database
from models.audit import AuditHead
from models.db import make_engine, transaction
from models.obligations import Obligation
from states.audit_chain import verify_chain
from states.roster import record_changes
from tests.cli_process import run_cli
from tests.scenario import ON_TIME, RECORDED_LATE
from tests.scenario import record_facts as _facts
from tests.scenario import run_flow as _run


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _state(engine: Engine) -> tuple[tuple[int, str], list[tuple[Any, ...]]]:
    """The audit head and every obligation's state: what a restore must give back."""
    with transaction(engine) as session:
        main = AuditHead.chain == ""  # the main chain's head binds the partitions' chains
        head = session.execute(select(AuditHead.seq, AuditHead.hash).where(main)).one()
        states = session.execute(
            select(Obligation.key, Obligation.state, Obligation.escalation_level).order_by(
                Obligation.key
            )
        ).all()
    return (head.seq, head.hash), [tuple(s) for s in states]


# SQLite's backups only (PostgreSQL's are pg_dump's): these tests take the SQLite database.
sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def ran(town: Engine, tmp_path: Path) -> Iterator[Engine]:
    """The town's campaign run to 20/05/2023 (notices issued, escalations open)."""
    _facts(town, tmp_path, "on-time.csv", ON_TIME)
    _run(town, "2023-05-20")
    yield town


def test_a_backup_restores_the_database_as_it_was(ran: Engine, tmp_path: Path) -> None:
    url = _url(ran)
    if ran.dialect.name == "postgresql":
        refused = run_cli("db", "backup", tmp_path / "b.db", database_url=url)
        assert refused.returncode == 1
        assert refused.stderr.startswith("error: on PostgreSQL a backup is pg_dump's: `pg_dump -Fc")
        assert not (tmp_path / "b.db").exists()
        restore = run_cli("db", "restore", __file__, database_url=url)
        assert restore.returncode == 1 and "pg_restore" in restore.stderr
        return
    kept = _state(ran)
    backup = tmp_path / "kept" / "campaign-2023-05-20.db"
    backup.parent.mkdir()
    made = run_cli("db", "backup", backup, database_url=url)
    assert made.returncode == 0, made.stderr
    seq, hash_ = kept[0]
    assert f"it holds the audit trail up to event {seq:,}, hash {hash_}" in made.stdout
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name], "one whole file"

    _facts(ran, tmp_path, "late.csv", RECORDED_LATE)
    _run(ran, "2023-05-27")
    assert _state(ran) != kept, "the live database moved on after the backup"

    restored = run_cli("db", "restore", backup, database_url=url)
    assert restored.returncode == 0, restored.stderr
    assert f"audit events verified, chain intact, head event {seq:,}" in restored.stdout
    ran.dispose()  # connections pooled before the restore
    assert _state(ran) == kept
    with transaction(ran) as session:
        assert verify_chain(session) == seq
    verified = run_cli("audit", "verify", database_url=url)
    assert verified.returncode == 0 and "chain intact" in verified.stdout
    assert _run(ran, "2023-05-27").state == "reporting", "the restored campaign runs on"


@sqlite
def test_a_backup_is_not_written_over_without_force(ran: Engine, tmp_path: Path) -> None:
    url, backup = _url(ran), tmp_path / "b.db"
    backup.write_text("an older backup")
    refused = run_cli("db", "backup", backup, database_url=url)
    assert (refused.returncode, refused.stderr) == (
        1,
        f"error: {backup} exists; give --force to overwrite it\n",
    )
    assert backup.read_text() == "an older backup"
    forced = run_cli("db", "backup", backup, "--force", database_url=url)
    assert forced.returncode == 0, forced.stderr
    with closing(sqlite3.connect(backup)) as copy:
        assert (
            copy.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()[0]
            == _state(ran)[0][0]
        )


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_event SET actor = 'mallory' WHERE seq = 20",
        "DELETE FROM audit_event WHERE seq = 20",
    ],
    ids=["edited", "deleted"],
)
@sqlite
def test_a_tampered_backup_is_refused_and_the_database_left_as_it_was(
    ran: Engine, tmp_path: Path, tamper: str
) -> None:
    url, backup = _url(ran), tmp_path / "b.db"
    assert run_cli("db", "backup", backup, database_url=url).returncode == 0
    with closing(sqlite3.connect(backup)) as copy:
        copy.execute("DROP TRIGGER audit_event_no_update")
        copy.execute("DROP TRIGGER audit_event_no_delete")
        copy.execute(tamper)
        copy.commit()
    _run(ran, "2023-05-27")
    live = _state(ran)

    refused = run_cli("db", "restore", backup, database_url=url)
    assert refused.returncode == 1
    event = "event 20 was altered" if "UPDATE" in tamper else "event 20 is missing"
    assert refused.stderr.startswith(f"error: {backup}: {event}"), refused.stderr
    assert refused.stderr.endswith("; nothing was restored\n")
    assert _state(ran) == live
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@sqlite
def test_a_backup_without_the_audits_guards_is_refused(ran: Engine, tmp_path: Path) -> None:
    """A chain intact but its triggers dropped: restored, the trail could be rewritten."""
    url, backup = _url(ran), tmp_path / "b.db"
    assert run_cli("db", "backup", backup, database_url=url).returncode == 0
    with closing(sqlite3.connect(backup)) as copy:
        copy.execute("DROP TRIGGER audit_event_no_delete")
    refused = run_cli("db", "restore", backup, database_url=url)
    assert (refused.returncode, refused.stderr) == (
        1,
        f"error: {backup}: the audit's guards were changed (triggers audit_event_no_delete)\n",
    )
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("not a database")
    refused = run_cli("db", "restore", not_a_database, database_url=url)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: {not_a_database}: not a SQLite database")


@sqlite
def test_a_backup_is_consistent_while_a_run_writes(ran: Engine, tmp_path: Path) -> None:
    """A writer in the middle of its transaction neither blocks the backup nor leaks into it:
    the backup holds what was committed."""
    import datetime as dt

    from states.roster import Change

    committed = _state(ran)[0]
    writer = make_engine(_url(ran))
    try:
        with transaction(writer) as session:
            change = Change(1, None, 1, 1, "active", "active", {"note": ("a", "b")})
            record_changes(
                session, "member", "roster_update", [change], at=dt.date(2023, 5, 21), actor="w"
            )
            made = backup_database(_url(ran), tmp_path / "during.db")
        assert (made.seq, made.hash) == committed
        assert _state(ran)[0][0] == committed[0] + 1
    finally:
        writer.dispose()


@sqlite
def test_a_restore_waits_for_no_run_and_is_refused_while_one_goes_on(
    ran: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replacing the database under a run halfway through would leave it working on another
    database: the restore holds every campaign's run lock, and refuses when a run keeps it."""
    import datetime as dt

    from campaign.lock import campaign_lock

    url, backup = _url(ran), tmp_path / "b.db"
    assert run_cli("db", "backup", backup, database_url=url).returncode == 0
    _run(ran, "2023-05-27")
    live = _state(ran)
    monkeypatch.setenv("CAMPAIGN_RUN_LOCK_WAIT_SECONDS", "1")
    with campaign_lock(ran, "T23", dt.date(2023, 5, 28)):
        refused = run_cli("db", "restore", backup, database_url=url)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: campaign T23 is being run by another process")
    assert _state(ran) == live
    assert run_cli("db", "restore", backup, database_url=url).returncode == 0
