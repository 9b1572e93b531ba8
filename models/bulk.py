"""Inserting plain tuples straight through the driver."""

from collections.abc import Iterable, Sequence
from typing import Any

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
