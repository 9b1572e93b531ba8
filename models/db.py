"""The engine and session factory, SQLite pragmas, and schema migration through Alembic."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

import models.tables  # noqa: F401  (every mapper known before the first query)
from models.settings import get_settings

if TYPE_CHECKING:
    from alembic.config import Config

# sqlite3's default date adapters are deprecated (Python 3.12); these are the documented
# recipes, registered once, so plain tuples with dates go straight through the driver.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, lambda value: value.isoformat(" "))


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    # SQLite's default page cache is 2 MB; a province's database is hundreds of MB, and the
    # runs' and imports' index inserts land all over the obligation, fact and audit B-trees.
    # 256 MiB (an upper bound, used as pages are read) cut the timeline's runs by ~5 % and the
    # facts import by ~8 % of CPU time (bench/timeline.py, 200,000 members).
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.close()


_READ_ONLY = "campaign_read_only"
# Connections a process keeps open to its SQLite database, and the console's threads: on two
# cores a third thread keeps both busy (one in Python, one in SQLite); more only contend for the
# interpreter's lock (50 sessions on a province: 88-104 requests/s with 3, 62 with 8).
POOL_SIZE = 3


def _sqlite_begin_immediate(connection: Connection) -> None:
    # Every write transaction takes the write lock at BEGIN, so two processes never both read
    # the audit chain's head and then race to extend it (SQLite's deferred BEGIN would let them).
    # A read-only one (`read_only` below) reads a snapshot instead, beside the writer (WAL).
    reading = connection.info.get(_READ_ONLY)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for `url`; on SQLite with foreign keys, WAL and immediate transactions."""
    if url.startswith("sqlite"):
        # Connections kept in the pool keep their page cache: a console serving many pages at
        # once would otherwise open (and warm) a new one for most of them, and throw it away.
        engine = create_engine(
            url,
            connect_args={"isolation_level": None, "timeout": 60},
            pool_size=POOL_SIZE,
            max_overflow=2 * POOL_SIZE,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # No JIT: PostgreSQL compiles a statement whose estimated cost is high (a run's set-based
    # updates over a nation), which took 366 ms of a 471 ms update and saves nothing on
    # statements that each run once.
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c jit=off"})


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """The process's engine for `url` (default: the settings' database URL)."""
    return make_engine(url or get_settings().database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to `engine`; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def read_only(engine: Engine) -> Iterator[Session]:
    """A session in a transaction the database itself keeps from writing, rolled back at the
    end (PostgreSQL: a READ ONLY transaction; SQLite: a deferred one, on a connection set to
    `query_only`, so it neither waits for nor blocks the writer)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        connection.info[_READ_ONLY] = sqlite
        try:
            flag = "PRAGMA query_only = ON" if sqlite else "SET TRANSACTION READ ONLY"
            connection.exec_driver_sql(flag)
            with Session(bind=connection) as session:
                yield session
        finally:
            if sqlite:  # the connection goes back to the pool: writable again
                connection.exec_driver_sql("PRAGMA query_only = OFF")
            connection.rollback()
            connection.info.pop(_READ_ONLY, None)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with session_factory(engine).begin() as session:
        yield session


def analyze(session: Session, *tables: str) -> None:
    """Refresh PostgreSQL's statistics of `tables` after a bulk write (rows this transaction
    wrote count too), so that the next statements are planned for their real sizes: after an
    import or a deployment into empty tables, the planner would otherwise take a table of
    millions of rows for a handful and nest its loops accordingly. SQLite plans without such
    statistics (nothing to do)."""
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))


def alembic_config(engine: Engine) -> "Config":
    """An Alembic config that migrates through `engine`'s own connection."""
    # Imported here: every command imports this module, only migrations need Alembic (~0.2 s).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("models") / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision; returns that revision."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
    return current_revision(engine)


def current_revision(engine: Engine) -> str:
    """The schema's revision, '' before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or ""
