"""One run of a campaign at a time: a lock per campaign, held for the whole run, that the
operating system or the database releases by itself when the process holding it dies.

On PostgreSQL it is a session-level advisory lock on a connection of its own; on SQLite an
exclusive `flock` on a file beside the database file. A second run waits for the first up to
`run_lock_wait_seconds`, then is refused, naming when the holder started and its date."""

import datetime as dt
import fcntl
import os
import re
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from models.errors import OutOfScope
from models.settings import get_settings

# The locks this context holds: a run re-entering its own lock (the CLI takes it before the
# date check, the flow it starts takes it again) goes straight through.
_HELD: ContextVar[frozenset[tuple[str, str]]] = ContextVar("campaign_locks", default=frozenset())

# The advisory lock's first key: this engine's runs (b"CAMP"); the second is the campaign's.
_CLASS = 0x43414D50
_POLL_SECONDS = 0.2


@contextmanager
def campaign_lock(
    engine: Engine, code: str, as_of: dt.date, *, wait: float | None = None
) -> Iterator[None]:
    """Hold campaign `code`'s run lock on `engine`'s database for the block, waiting up to
    `wait` seconds (default: the settings') for another run to end; refused after that."""
    key = (engine.url.render_as_string(hide_password=True), code)
    if key in _HELD.get():
        yield
        return
    started = dt.datetime.now(ZoneInfo(get_settings().timezone))
    holder = f"{started:%H:%M} {as_of.isoformat()}"
    seconds = get_settings().run_lock_wait_seconds if wait is None else wait
    hold = _postgres_lock if engine.dialect.name == "postgresql" else _sqlite_lock
    with hold(engine, code, holder, seconds):
        token = _HELD.set(_HELD.get() | {key})
        try:
            yield
        finally:
            _HELD.reset(token)


def _acquire(
    take: Callable[[], bool], holder: Callable[[], str | None], code: str, wait: float
) -> None:
    """Try `take` until it succeeds or `wait` seconds have passed; then refuse, naming the
    holder when it can be read."""
    deadline = time.monotonic() + wait
    while not take():
        if time.monotonic() >= deadline:
            raise OutOfScope(_refusal(code, holder()))
        time.sleep(_POLL_SECONDS)


def _refusal(code: str, holder: str | None) -> str:
    since = ""
    if holder and re.fullmatch(r"\d\d:\d\d \d{4}-\d\d-\d\d", holder):
        hour, day = holder.split()
        since = f" since {hour} (run as of {dt.date.fromisoformat(day):%d/%m/%Y})"
    return f"campaign {code} is being run by another process{since}; try again when it ends"


@contextmanager
def _postgres_lock(engine: Engine, code: str, holder: str, wait: float) -> Iterator[None]:
    """A session-level advisory lock on a connection of its own, named by the holder."""
    objid = zlib.crc32(code.encode()) & 0x7FFFFFFF
    keys = {"class": _CLASS, "obj": objid}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:

        def take() -> bool:
            query = text("SELECT pg_try_advisory_lock(:class, :obj)")
            return bool(connection.execute(query, keys).scalar())

        def holding() -> str | None:
            query = text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid = CAST(:class AS oid) AND l.objid = CAST(:obj AS oid) "
                "AND l.objsubid = 2"
            )
            return connection.execute(query, keys).scalar()

        _acquire(take, holding, code, wait)
        try:
            connection.execute(
                text("SELECT set_config('application_name', :h, false)"), {"h": holder}
            )
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:class, :obj)"), keys)


@contextmanager
def _sqlite_lock(engine: Engine, code: str, holder: str, wait: float) -> Iterator[None]:
    """An exclusive `flock` on `<database>.<campaign>.lock`, holding who took it."""
    database = engine.url.database
    if not database or database == ":memory:":  # no file, no other process: nothing to lock
        yield
        return
    path = Path(database)
    descriptor = os.open(
        path.with_name(f"{path.name}.{_file_part(code)}.lock"), os.O_RDWR | os.O_CREAT, 0o600
    )
    try:

        def take() -> bool:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        def holding() -> str | None:
            return os.pread(descriptor, 64, 0).decode(errors="replace").strip() or None

        _acquire(take, holding, code, wait)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, holder.encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _file_part(code: str) -> str:
    """The campaign's code as part of a file name: its safe characters, and a checksum of the
    whole code when any had to go (two codes never share a lock file by accident)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", code)
    return safe if safe == code else f"{safe}-{zlib.crc32(code.encode()):08x}"
