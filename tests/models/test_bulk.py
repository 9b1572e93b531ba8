"""Large imports: the garbage collector's pause, and rows inserted behind the caller."""

import gc
import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from models.bulk import insert_behind, without_gc_pauses
from models.db import transaction


def test_the_collector_is_paused_during_the_call_and_resumes_after_it() -> None:
    seen = []

    @without_gc_pauses
    def work(x: int) -> int:
        seen.append(gc.isenabled())
        return x + 1

    assert gc.isenabled()
    assert work(1) == 2
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_resumes_when_the_call_raises() -> None:
    @without_gc_pauses
    def refuse() -> None:
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        refuse()
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused() -> None:
    @without_gc_pauses
    def work() -> bool:
        return gc.isenabled()

    gc.disable()
    try:
        assert work() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


def _rows(engine: Engine) -> list[tuple[int, str]]:
    with transaction(engine) as session:
        return [tuple(r) for r in session.execute(text("SELECT id, code FROM t ORDER BY id"))]


@pytest.fixture
def table(engine: Engine) -> Engine:
    with transaction(engine) as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, code VARCHAR(16) UNIQUE)"))
    return engine


def test_rows_inserted_behind_are_all_written_in_the_callers_transaction(table: Engine) -> None:
    wanted = [(i, f"c{i}") for i in range(1, 2_346)]  # not a multiple of the statement size
    with transaction(table) as session:
        with insert_behind(session, "t", ("id", "code"), rows=100) as add:
            for row in wanted:
                add(row)
        assert session.scalar(text("SELECT count(*) FROM t")) == len(wanted)
        session.rollback()
    assert _rows(table) == []
    with transaction(table) as session, insert_behind(session, "t", ("id", "code")) as add:
        for row in wanted:
            add(row)
    assert _rows(table) == wanted


def test_the_writers_error_is_raised_when_the_block_ends(table: Engine) -> None:
    with (
        pytest.raises(IntegrityError),
        transaction(table) as session,
        insert_behind(session, "t", ("id", "code"), rows=10) as add,
    ):
        for i in range(1, 50):
            add((i, "same" if i == 25 else f"c{i}"))
        add((50, "same"))  # breaks the unique code: the last statement fails
    assert _rows(table) == []


def test_an_error_of_the_block_stops_the_writer_and_propagates(table: Engine) -> None:
    with (
        pytest.raises(ValueError, match="bad row"),
        transaction(table) as session,
        insert_behind(session, "t", ("id", "code"), rows=10) as add,
    ):
        for i in range(1, 35):
            add((i, f"c{i}"))
        raise ValueError("bad row")
    assert _rows(table) == []
    assert [t.name for t in threading.enumerate() if t.name.startswith("insert-")] == []


def test_rows_of_a_wide_table_are_inserted_within_sqlites_parameter_limit(engine: Engine) -> None:
    # 2,000 rows of 200 values: 400,000 parameters, past even a SQLite built to allow 250,000
    columns = [f"c{i}" for i in range(200)]
    with transaction(engine) as session:
        session.execute(text(f"CREATE TABLE wide ({', '.join(f'{c} INTEGER' for c in columns)})"))
    with transaction(engine) as session, insert_behind(session, "wide", columns) as add:
        for i in range(2_500):
            add((i,) * len(columns))
    with transaction(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM wide")) == 2_500
        assert session.scalar(text("SELECT sum(c199) FROM wide")) == sum(range(2_500))


def test_shared_columns_are_written_into_every_row(engine: Engine) -> None:
    """Values shared by every row (bound once a statement on SQLite) land in each row as if
    each row had carried them, NULLs and dates too, beside the rows' own NULLs."""
    import datetime as dt

    with transaction(engine) as session:
        session.execute(
            text(
                "CREATE TABLE s (id INTEGER PRIMARY KEY, unit INTEGER, day DATE, "
                "who VARCHAR(16), note TEXT)"
            )
        )
    shared = {"day": dt.date(2023, 5, 12), "who": "bench", "note": None}
    wanted = [(i, None if i % 3 == 0 else i * 10) for i in range(1, 1_235)]
    with (
        transaction(engine) as session,
        insert_behind(session, "s", ("id", "unit"), rows=100, shared=shared) as add,
    ):
        for row in wanted:
            add(row)
    with transaction(engine) as session:
        found = session.execute(text("SELECT id, unit, day, who, note FROM s ORDER BY id")).all()
    day = "2023-05-12" if engine.dialect.name == "sqlite" else dt.date(2023, 5, 12)
    assert [tuple(r) for r in found] == [(i, u, day, "bench", None) for i, u in wanted]


def test_a_column_cannot_be_both_per_row_and_shared(table: Engine) -> None:
    with (
        pytest.raises(ValueError, match="both per row and shared: code"),
        transaction(table) as session,
        insert_behind(session, "t", ("id", "code"), shared={"code": "x"}),
    ):
        pass
    assert _rows(table) == []
