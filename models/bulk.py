"""Large imports: inserting plain tuples straight through the driver, and building hundreds of
thousands of rows without the garbage collector's pauses; bounded lists of ids for IN."""

import functools
import gc
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Select
from sqlalchemy.orm import Session

# SQLite binds at most this many parameters in one statement (its default since 3.32).
SQLITE_PARAMETERS = 32_766
# Ids in one IN list: bounded by that limit.
IN_LIST = 10_000
T = TypeVar("T")


def in_chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`, for IN lists of bounded length."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


def in_lists(query: Query, column: Any, wanted: Iterable[Any]) -> list[Query]:
    """`query` restricted to `column` in `wanted`, as statements of bounded IN lists (none when
    nothing is wanted)."""
    return [query.where(column.in_(chunk)) for chunk in in_chunks(sorted(set(wanted)))]


def bulk_insert(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert plain tuples straight through the driver: for the hot paths (audit appends, large
    imports) where SQLAlchemy's per-row parameter processing costs more than the database."""
    rows = list(rows)
    if not rows:
        return
    connection = session.connection()
    connection.exec_driver_sql(_insert(connection, table, columns), rows)


def _insert(connection: Connection, table: str, columns: Sequence[str], rows: int = 1) -> str:
    """`INSERT INTO table (columns) VALUES (…)` with `rows` rows of the driver's placeholders."""
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    one = f"({', '.join([mark] * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)}"


# Rows a statement of `insert_behind` carries: on SQLite one multi-row INSERT (the driver binds
# them at once, then the database works without Python's lock); fewer for a table with more
# than 16 columns, to stay within SQLITE_PARAMETERS.
BEHIND_ROWS = 2_000


@contextmanager
def insert_behind(
    session: Session,
    table: str,
    columns: Sequence[str],
    *,
    rows: int = BEHIND_ROWS,
    shared: Mapping[str, Any] | None = None,
) -> Iterator[Callable[[Sequence[Any]], None]]:
    """Insert rows on a second thread while the caller goes on producing them.

    Yields `add(row)`, a row holding `columns`; the `shared` columns take the same value in
    every row, bound once a statement on SQLite (a set-based transition's events share nine of
    their sixteen columns: binding them per row was a third of the writer's time). Rows go to
    the database in statements of `rows`, in the session's transaction (its connection, used
    by the thread alone until the block ends: the caller must not use the session inside the
    block). The database's own work runs without Python's global lock, so validating a large
    file and writing it share the machine's two cores. Leaving the block waits for the last
    statement; an error of the thread is raised there, and an error of the block stops the
    thread first. Either way the caller's transaction rolls back the rest."""
    shared = dict(shared or {})
    if both := set(columns) & set(shared):
        raise ValueError(f"columns both per row and shared: {', '.join(sorted(both))}")
    rows = max(1, min(rows, (SQLITE_PARAMETERS - len(shared)) // len(columns)))
    connection = session.connection()
    chunks: queue.Queue[list[Sequence[Any]] | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []
    writer = threading.Thread(
        target=_write_chunks,
        args=(connection, table, columns, shared, chunks, failed),
        name=f"insert-{table}",
        daemon=True,
    )
    writer.start()
    pending: list[Sequence[Any]] = []

    def add(row: Sequence[Any]) -> None:
        nonlocal pending
        pending.append(row)
        if len(pending) >= rows:
            _put(chunks, pending, failed)
            pending = []

    try:
        yield add
        if pending:
            _put(chunks, pending, failed)
    finally:
        _put(chunks, None, failed)
        writer.join()
    if failed:
        raise failed[0]


def _put(
    chunks: "queue.Queue[list[Sequence[Any]] | None]",
    chunk: list[Sequence[Any]] | None,
    failed: list[BaseException],
) -> None:
    """Queue a chunk (None: the end), unless the writer has stopped on an error."""
    while not failed:
        try:
            chunks.put(chunk, timeout=0.1)
            return
        except queue.Full:
            continue


def _insert_shared(table: str, columns: Sequence[str], shared: Sequence[str], rows: int) -> str:
    """SQLite's `INSERT INTO table (columns, shared) SELECT column1, …, ?, … FROM (VALUES …)`:
    each row binds `columns` only, the `shared` values are bound once, before them."""
    picked = [f"column{i}" for i in range(1, len(columns) + 1)] + ["?"] * len(shared)
    one = f"({', '.join(['?'] * len(columns))})"
    return (
        f"INSERT INTO {table} ({', '.join([*columns, *shared])}) "
        f"SELECT {', '.join(picked)} FROM (VALUES {', '.join([one] * rows)})"
    )


def _write_chunks(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    shared: Mapping[str, Any],
    chunks: "queue.Queue[list[Sequence[Any]] | None]",
    failed: list[BaseException],
) -> None:
    sqlite = connection.dialect.name == "sqlite"
    values = tuple(shared.values())
    try:
        while (chunk := chunks.get()) is not None:
            if sqlite:  # one statement: bound at once, then run without Python's lock
                statement = (
                    _insert_shared(table, columns, list(shared), len(chunk))
                    if shared
                    else _insert(connection, table, columns, rows=len(chunk))
                )
                connection.exec_driver_sql(statement, (*values, *chain.from_iterable(chunk)))
            else:  # psycopg pipelines an executemany and waits on the server without the lock
                statement = _insert(connection, table, [*columns, *shared])
                connection.exec_driver_sql(statement, [(*row, *values) for row in chunk])
    except BaseException as exc:  # handed to the caller's thread, which raises it
        failed.append(exc)


P = ParamSpec("P")
R = TypeVar("R")


def without_gc_pauses(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` with Python's cyclic garbage collector paused.

    An import builds hundreds of thousands of small objects (cells, rows, pydantic models) that
    all stay alive until it ends; each of the collector's full passes walks every one of them,
    about a fifth of a 367,000-row facts import (bench/timeline.py). The rows hold no reference
    cycles, so reference counting frees them as before; the collector resumes when `fn` ends."""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused
