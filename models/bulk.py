"""Large imports: inserting plain tuples straight through the driver, and building hundreds of
thousands of rows without the garbage collector's pauses."""

import functools
import gc
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.orm import Session


def bulk_insert(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert plain tuples straight through the driver: for the hot paths (audit appends, large
    imports) where SQLAlchemy's per-row parameter processing costs more than the database."""
    rows = list(rows)
    if not rows:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    )
    connection.exec_driver_sql(statement, rows)


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
