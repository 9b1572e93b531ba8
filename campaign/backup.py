"""Backups an office can make: a SQLite database copied whole while runs go on writing, and
restored only once what the copy holds is proven — its schema and its audit chain.

Both go through SQLite's online backup API, which copies a consistent snapshot page by page
under a read transaction (in WAL mode, writers are not held up) and writes the destination in
one transaction. A restore copies the backup into a private file beside the live database,
checks that copy, then copies it into the live database: the checked bytes are the restored
bytes, connections open on the live database see the old database or the new one, never a
mixture, and SQLite itself looks after the WAL files; meanwhile it holds the run lock of every
campaign, so no run is halfway through when its database is replaced. PostgreSQL's backups
are pg_dump's."""

import os
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from campaign.lock import campaign_lock
from models.calendar import today
from models.db import alembic_config, current_revision, make_engine, migrate, transaction
from models.errors import AuditBroken, CampaignError
from states.audit_chain import verify_chain

PG_DUMP = (
    "on PostgreSQL a backup is pg_dump's: `pg_dump -Fc -f FILE DATABASE`, restored with "
    "`pg_restore --clean --if-exists --no-owner -d DATABASE FILE` (see the README)"
)


class BackupView(BaseModel):
    """A backup written or restored: where, how large, and the audit head it holds."""

    file: str
    bytes: int
    events: int | None = None  # verified events (a restore verifies; a backup does not)
    seq: int
    hash: str


def backup_database(url: str, target: Path, *, force: bool = False) -> BackupView:
    """Copy the SQLite database at `url` into `target` (not overwritten unless `force`),
    consistent while runs write; `target` appears whole or not at all."""
    live = sqlite_file(url, "backed up")
    if not live.is_file():
        raise CampaignError(f"no database at {live}")
    if target.exists() and not force:
        raise CampaignError(f"{target} exists; give --force to overwrite it")
    if target.exists() and target.resolve() == live.resolve():
        raise CampaignError(f"{target} is the database itself")
    with _scratch(target) as temp:
        live_db, copy = sqlite3.connect(live, timeout=60), sqlite3.connect(temp)
        with closing(live_db), closing(copy):
            _copy(live_db, copy)
            # One self-contained file: no -wal beside it to lose when it is moved.
            copy.execute("PRAGMA journal_mode=DELETE")
            seq, hash_ = _head(copy, target)
        os.replace(temp, target)
    return BackupView(file=str(target), bytes=target.stat().st_size, seq=seq, hash=hash_)


def restore_database(url: str, backup: Path) -> BackupView:
    """Replace the SQLite database at `url` with `backup`, once the backup's schema and audit
    chain are verified; refused (AuditBroken, CampaignError), the live database is untouched."""
    live = sqlite_file(url, "restored")
    if live.exists() and backup.resolve() == live.resolve():
        raise CampaignError(f"{backup} is the database itself")
    if not live.parent.is_dir():
        raise CampaignError(f"no folder {live.parent} for the database")
    with _scratch(live) as temp:
        try:
            source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise CampaignError(f"{backup}: cannot open it ({exc})") from exc
        with closing(source), closing(sqlite3.connect(temp)) as copy:
            _copy(source, copy, name=backup)
        events = _verified(temp, backup)
        checked, live_db = sqlite3.connect(temp), sqlite3.connect(live, timeout=60)
        with closing(checked), closing(live_db), _no_run(live, _codes(checked) | _codes(live_db)):
            _copy(checked, live_db)
            seq, hash_ = _head(live_db, live)
    return BackupView(file=str(live), bytes=live.stat().st_size, events=events, seq=seq, hash=hash_)


@contextmanager
def _no_run(live: Path, codes: set[str]) -> Iterator[None]:
    """Hold the run lock of every campaign of both databases: no run is halfway through
    while its database is replaced (a run in progress is waited for, then refused)."""
    engine = make_engine(f"sqlite:///{live}")
    try:
        with ExitStack() as locks:
            for code in sorted(codes):
                locks.enter_context(campaign_lock(engine, code, today()))
            yield
    finally:
        engine.dispose()


def _codes(connection: sqlite3.Connection) -> set[str]:
    """The campaigns of a database (none in a new file)."""
    try:
        return {code for (code,) in connection.execute("SELECT code FROM campaign")}
    except sqlite3.OperationalError:  # no campaign table: an empty live database
        return set()


def sqlite_file(url: str, doing: str) -> Path:
    """The file of a SQLite URL; other backends are refused with how they are `doing`."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        raise CampaignError(PG_DUMP)
    if backend != "sqlite":
        raise CampaignError(f"a {backend} database is not {doing} here")
    if not parsed.database or parsed.database == ":memory:":
        raise CampaignError(f"an in-memory database cannot be {doing}")
    return Path(parsed.database).absolute()


def _copy(
    source: sqlite3.Connection, target: sqlite3.Connection, *, name: Path | None = None
) -> None:
    """Every page of `source` into `target`, in one step: one snapshot, one transaction."""
    try:
        source.backup(target)
    except sqlite3.DatabaseError as exc:
        if name is not None:
            raise CampaignError(f"{name}: not a SQLite database ({exc})") from exc
        raise CampaignError(f"the backup failed: {exc}") from exc


def _head(connection: sqlite3.Connection, file: Path) -> tuple[int, str]:
    try:
        row = connection.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    except sqlite3.DatabaseError as exc:
        raise CampaignError(f"{file}: not a campaign database ({exc})") from exc
    if row is None:
        raise CampaignError(f"{file}: the audit chain's head row is missing")
    return int(row[0]), str(row[1])


def _verified(copy: Path, backup: Path) -> int:
    """Check the copy of `backup`: a sound file, a schema this engine knows (migrated to its
    newest revision), every table, and an audit chain that verifies. Returns its events."""
    engine = make_engine(f"sqlite:///{copy}")
    try:
        _check_integrity(engine, backup)
        expected = _check_schema(engine, backup)
        with transaction(engine) as session:
            try:
                events = verify_chain(session)
            except AuditBroken as exc:
                raise AuditBroken(f"{backup}: {exc}; nothing was restored") from exc
        _check_guards(engine, backup, expected)
        return events
    finally:
        engine.dispose()


def _check_integrity(engine: Engine, backup: Path) -> None:
    with engine.connect() as connection:
        found = [row[0] for row in connection.exec_driver_sql("PRAGMA quick_check")]
    if found != ["ok"]:
        raise CampaignError(f"{backup}: the file is damaged ({found[0]})")


def _check_schema(engine: Engine, backup: Path) -> dict[str, str]:
    """A schema revision this engine knows, migrated to its newest, with every table; returns
    the triggers this engine's own schema has."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    revision = current_revision(engine)
    if not revision:
        raise CampaignError(f"{backup}: not a campaign database (no schema revision)")
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    try:
        scripts.get_revision(revision)
    except CommandError as exc:
        newest = scripts.get_current_head()
        raise CampaignError(
            f"{backup}: schema revision {revision} is unknown to this engine (its newest is "
            f"{newest}): restore it with the engine that made it"
        ) from exc
    migrate(engine)
    tables, _ = _schema(engine)
    expected_tables, expected_triggers = _fresh_schema(Path(engine.url.database or "."))
    if missing := sorted(expected_tables - tables):
        raise CampaignError(f"{backup}: not a whole campaign database (no {', '.join(missing)})")
    return expected_triggers


def _check_guards(engine: Engine, backup: Path, expected_triggers: dict[str, str]) -> None:
    """Exactly the triggers that guard the audit: a backup with one dropped or changed, or
    with one of its own added, is not restored."""
    _, triggers = _schema(engine)
    if triggers != expected_triggers:
        wrong = sorted(set(triggers.items()) ^ set(expected_triggers.items()))
        names = ", ".join(sorted({name for name, _ in wrong}))
        raise CampaignError(f"{backup}: the audit's guards were changed (triggers {names})")


def _schema(engine: Engine) -> tuple[set[str], dict[str, str]]:
    """A SQLite database's tables, and its triggers with their SQL."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'trigger')"
        ).all()
    tables = {name for kind, name, _ in rows if kind == "table"}
    return tables, {name: sql for kind, name, sql in rows if kind == "trigger"}


def _fresh_schema(beside: Path) -> tuple[set[str], dict[str, str]]:
    """The tables and triggers of a database this engine migrates from nothing."""
    with _scratch(beside.with_name(f"{beside.name}.fresh")) as fresh:
        engine = make_engine(f"sqlite:///{fresh}")
        try:
            migrate(engine)
            return _schema(engine)
        finally:
            engine.dispose()


@contextmanager
def _scratch(beside: Path) -> Iterator[Path]:
    """A private file name in `beside`'s folder (so it can replace it), removed afterwards with
    any journal SQLite left beside it."""
    temp = beside.with_name(f".{beside.name}.{os.getpid()}.partial")
    try:
        yield temp
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{temp}{suffix}").unlink(missing_ok=True)
