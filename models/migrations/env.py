"""Alembic environment: migrates through the engine handed over by `models.db.migrate`."""

from alembic import context
from sqlalchemy import Engine

from models.base import Base
from models.db import get_engine

config = context.config
engine: Engine = config.attributes.get("engine") or get_engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
