"""Staging an import's rows: PostgreSQL's COPY, SQLite's INSERTs, the same rows either way."""

from datetime import date

import pytest
from sqlalchemy import Boolean, Date, Engine, Integer, Text, select
from sqlalchemy import Column as Field

from models.db import transaction
from models.staging import (
    bulk_behind,
    copy_rows,
    create_stage,
    drop_stage,
    insert_rows,
    stage_rows,
    stage_table,
    stage_writer,
)

STAGE = stage_table(
    "test_stage",
    Field("row_no", Integer),
    Field("text", Text),
    Field("day", Date),
    Field("flag", Boolean),
)
# What COPY's text format must escape, and what it must not mangle.
ROWS = [
    (2, "Nguyễn Văn An", date(2023, 3, 1), True),
    (3, "tab\there, new\nline, back\\slash, \\N", date(2023, 3, 2), False),
    (4, None, None, None),
    (5, "", date(2024, 2, 29), True),
]


def test_postgresql_stages_by_copy_and_sqlite_by_inserts(engine: Engine) -> None:
    """The writer chosen for the database is COPY on PostgreSQL (run here for real, its rows
    read back as written) and multi-row INSERTs on SQLite."""
    expected = copy_rows if engine.dialect.name == "postgresql" else insert_rows
    with transaction(engine) as session:
        assert stage_writer(session) is expected
        create_stage(session, STAGE)
        with stage_rows(session, STAGE) as add:
            for row in ROWS * 3_000:  # more than a COPY buffer and an INSERT batch hold
                add(row)
        stored = session.execute(select(*STAGE.c).order_by(STAGE.c.row_no)).all()
        drop_stage(session, STAGE)
    assert len(stored) == len(ROWS) * 3_000
    assert {tuple(row) for row in stored} == set(ROWS)


def test_an_error_while_staging_leaves_the_transaction_usable(engine: Engine) -> None:
    """An error raised while rows are staged aborts the write (COPY: CopyFail) and reaches the
    caller; rolled back to a savepoint, the transaction goes on."""
    with transaction(engine) as session:
        create_stage(session, STAGE)
        with (
            pytest.raises(ValueError, match="bad row"),
            session.begin_nested(),
            stage_rows(session, STAGE) as add,
        ):
            add(ROWS[0])
            raise ValueError("bad row")
        create_stage(session, STAGE)
        assert session.execute(select(STAGE.c.row_no)).all() == []
        drop_stage(session, STAGE)


def test_bulk_behind_writes_rows_and_their_shared_columns(engine: Engine) -> None:
    """A stored table's rows by the bulk path (COPY on PostgreSQL), each with the columns its
    rows share."""
    with transaction(engine) as session:
        create_stage(session, STAGE)
        shared = {"day": date(2023, 5, 1), "flag": True}
        with bulk_behind(session, STAGE.name, ["row_no", "text"], shared=shared) as add:
            for number in range(5_000):
                add((number, f"dòng {number}"))
        stored = session.execute(select(*STAGE.c).order_by(STAGE.c.row_no)).all()
        drop_stage(session, STAGE)
    assert [tuple(row) for row in stored] == [
        (number, f"dòng {number}", date(2023, 5, 1), True) for number in range(5_000)
    ]
