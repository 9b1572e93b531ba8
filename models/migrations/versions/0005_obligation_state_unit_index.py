"""The obligations of a state are found by unit within a campaign: the deadline sweep's chunk of
districts reads its own units' obligations, not every obligation of the campaign in that state
(which made the sweep of a whole party quadratic in its size).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_obligation_campaign_state_unit", "obligation", ["campaign_id", "state", "unit_id"]
    )
    op.drop_index("ix_obligation_campaign_state", table_name="obligation")


def downgrade() -> None:
    op.create_index("ix_obligation_campaign_state", "obligation", ["campaign_id", "state"])
    op.drop_index("ix_obligation_campaign_state_unit", table_name="obligation")
