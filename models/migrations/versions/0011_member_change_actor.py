"""Who made each dated change of a member (`member_change.actor`), for a member's history; the
changes kept before are given the actor of their roster event in the audit trail.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The actor of the member's roster event of the change's day (the latest, if several).
BACKFILL = """
UPDATE member_change SET actor = COALESCE((
    SELECT a.actor FROM audit_event a
    WHERE a.entity = 'member' AND a.entity_id = member_change.member_id
      AND a.trigger IN ('roster_update', 'roster_add') AND a.at = member_change.changed_on
    ORDER BY a.seq DESC LIMIT 1
), '')
"""


def upgrade() -> None:
    with op.batch_alter_table("member_change") as batch:
        batch.add_column(sa.Column("actor", sa.String(64), nullable=False, server_default=""))
    op.execute(BACKFILL)
    with op.batch_alter_table("member_change") as batch:
        batch.alter_column("actor", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("member_change") as batch:
        batch.drop_column("actor")
