"""Staging an import: its rows written, as the file is read, to a table of the session's own
(TEMPORARY), so that what needs the whole file (duplicates, references, the changes against
what is stored) is SQL over that table, in the import's transaction, and no process holds the
file whole.

The one part that differs by database is the writer of the staged rows: PostgreSQL's bulk path,
`COPY … FROM STDIN` through psycopg (its rows sent to the server on a second thread while the
file is read), or on SQLite multi-row INSERTs on a second thread (`insert_behind`)."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Column as Field
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import Session

from models.bulk import insert_behind

AddRow = Callable[[Sequence[Any]], None]
StageWriter = Callable[[Session, Table], AbstractContextManager[AddRow]]


def stage_table(name: str, *columns: Any, rowid: str | None = None) -> Table:
    """A staging table's definition (created per import by `create_stage`): its own metadata,
    not the schema's (Alembic knows nothing of it). `rowid` names an INTEGER column unique to
    each row (a file's row number) that SQLite keeps the rows by: written in its order, they
    are read in that order (ORDER BY it, a window over it) with no sort of the whole table."""
    return Table(name, MetaData(), *columns, prefixes=["TEMPORARY"], info={"rowid": rowid})


def create_stage(session: Session, table: Table) -> None:
    """Create `table` for this session's transaction, emptied of any earlier import's rows."""
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
    if (rowid := table.info.get("rowid")) and connection.dialect.name == "sqlite":
        # Its INTEGER PRIMARY KEY is the rowid; elsewhere a primary key would be an index more.
        keyed = (
            Field(c.name, c.type, nullable=c.nullable, primary_key=c.name == rowid) for c in table.c
        )
        table = Table(table.name, MetaData(), *keyed, prefixes=["TEMPORARY"])
    table.create(connection)


def drop_stage(session: Session, table: Table) -> None:
    """Drop a staging table once its import has been applied."""
    session.connection().exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")


def index_stage(session: Session, table: Table, *columns: str) -> None:
    """Index the staged rows by `columns` once written (cheaper than as they come)."""
    connection = session.connection()
    # Written out, not an sqlalchemy Index: that would join the table's definition for good.
    name = f"{table.name}_{'_'.join(columns)}"
    connection.exec_driver_sql(f"CREATE INDEX {name} ON {table.name} ({', '.join(columns)})")


@contextmanager
def copy_rows(session: Session, table: Table) -> Iterator[AddRow]:
    """PostgreSQL: `add(row)` writes a row of `table`'s columns into `COPY … FROM STDIN`; the
    data goes to the server on psycopg's writer thread while the caller reads on. An error of
    the block aborts the COPY (the server keeps none of its rows)."""
    with _copy(session, table.name, [c.name for c in table.columns]) as add:
        yield add


@contextmanager
def _copy(session: Session, table: str, columns: Sequence[str]) -> Iterator[AddRow]:
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
            yield copy.write_row


@contextmanager
def bulk_behind(
    session: Session, table: str, columns: Sequence[str], *, shared: Mapping[str, Any]
) -> Iterator[AddRow]:
    """Write rows into a stored `table` by the database's bulk path while the caller goes on
    producing them: `add(row)`, a row of `columns`, the `shared` columns the same in every row.
    PostgreSQL: COPY (as `copy_rows`); SQLite: `insert_behind`. The caller must not use the
    session inside the block; its transaction rolls back the rows on any error."""
    if session.get_bind().dialect.name != "postgresql":
        with insert_behind(session, table, columns, shared=shared) as add:
            yield add
        return
    values = tuple(shared.values())
    with _copy(session, table, [*columns, *shared]) as write:
        yield lambda row: write((*row, *values))


@contextmanager
def insert_rows(session: Session, table: Table) -> Iterator[AddRow]:
    """SQLite: `add(row)` queues a row of `table`'s columns for multi-row INSERTs written on a
    second thread (`insert_behind`)."""
    with insert_behind(session, table.name, [c.name for c in table.columns]) as add:
        yield add


STAGE_WRITERS: dict[str, StageWriter] = {"postgresql": copy_rows, "sqlite": insert_rows}


def stage_writer(session: Session) -> StageWriter:
    """The writer of staged rows for the session's database."""
    return STAGE_WRITERS[session.get_bind().dialect.name]


def stage_rows(session: Session, table: Table) -> AbstractContextManager[AddRow]:
    """Write rows of `table`'s columns, in order, as the caller produces them: `add(row)`. The
    caller must not use the session inside the block."""
    return stage_writer(session)(session, table)
