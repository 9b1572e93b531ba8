"""The roster's revision, and the revision each campaign was last deployed at.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    roster = op.create_table(
        "roster_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_revision")),
    )
    op.bulk_insert(roster, [{"id": 1, "revision": 0}])
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("deployed_revision", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("deployed_revision")
    op.drop_table("roster_revision")
