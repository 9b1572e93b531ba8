"""The schema: migrations, SQLite pragmas."""

from sqlalchemy import Engine, inspect, text

from models.db import current_revision, migrate


def test_schema_is_at_head_and_migrating_again_is_harmless(engine: Engine) -> None:
    before = current_revision(engine)
    assert before
    assert migrate(engine) == before
    assert {"unit", "member", "member_change", "campaign"} <= set(inspect(engine).get_table_names())


def test_sqlite_runs_with_foreign_keys_wal_and_a_large_page_cache(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        assert engine.dialect.name == "postgresql"
        return
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA cache_size")).scalar() == -262144  # 256 MiB
