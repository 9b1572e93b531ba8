"""Facts indexed by where they lie in the tree: `fact.path`, the path of the unit whose part of
the tree takes the fact in (a member's fact: the member's unit; a unit's own: that unit), and
an index of the pending facts by it, so a partition's steps read their own pending facts as
ranges of one index instead of every pending fact of the campaign. On PostgreSQL the column
compares byte by byte (collation "C"), as unit paths do.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = """
UPDATE fact SET path = COALESCE(
    (SELECT u.path FROM member m JOIN unit u ON u.id = m.unit_id WHERE m.id = fact.member_id),
    (SELECT u.path FROM unit u WHERE u.id = fact.unit_id)
)
"""


def upgrade() -> None:
    path = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")
    op.add_column("fact", sa.Column("path", path, nullable=False, server_default=""))
    op.execute(_FILL)
    op.create_index(
        "ix_fact_pending_path", "fact", ["campaign_id", "applied_on", "path", "date", "kind"]
    )


def downgrade() -> None:
    op.drop_index("ix_fact_pending_path", table_name="fact")
    with op.batch_alter_table("fact") as batch:
        batch.drop_column("path")
