"""Units that change: a unit's dated changes of parent, kind, name and status (`unit_change`),
and the day it was dissolved or merged into another unit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("old", sa.String(255), nullable=False),
        sa.Column("new", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_unit_change_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_change")),
    )
    op.create_index(op.f("ix_unit_change_unit_id"), "unit_change", ["unit_id"])
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("dissolved_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_unit_merged_into_id_unit"), "unit", ["merged_into_id"], ["id"]
        )
        batch.create_index(op.f("ix_unit_dissolved_on"), ["dissolved_on"])


def downgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.drop_index(op.f("ix_unit_dissolved_on"))
        batch.drop_constraint(op.f("fk_unit_merged_into_id_unit"), type_="foreignkey")
        batch.drop_column("merged_into_id")
        batch.drop_column("dissolved_on")
    op.drop_index(op.f("ix_unit_change_unit_id"), table_name="unit_change")
    op.drop_table("unit_change")
