"""Unit paths indexed in byte order on PostgreSQL: a subtree is then one range of the index
(`models/units.py` units_under), where a LIKE under the database's collation reads every unit.
SQLite compares text byte by byte already: its path index serves.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_unit_path_bytes", "unit", [sa.text('path COLLATE "C"')])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_unit_path_bytes", table_name="unit")
