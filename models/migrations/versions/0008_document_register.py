"""The document register: each notice's number in its issuing committee's register, per year
and kind ("12-CV/TU"), allocated once and never twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for documents outside the register (reports, and notices issued before it).
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("register_committee_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("register_year", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("register_kind", sa.String(8), nullable=True))
        batch.add_column(sa.Column("register_number", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_document_register_committee_id_unit"),
            "unit",
            ["register_committee_id"],
            ["id"],
        )
        # Two runs numbering at once (two campaigns of one committee) fail here, loudly,
        # rather than give two documents one number.
        batch.create_unique_constraint(
            "uq_document_register",
            ["register_committee_id", "register_year", "register_kind", "register_number"],
        )


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_constraint("uq_document_register", type_="unique")
        batch.drop_constraint(op.f("fk_document_register_committee_id_unit"), type_="foreignkey")
        batch.drop_column("register_number")
        batch.drop_column("register_kind")
        batch.drop_column("register_year")
        batch.drop_column("register_committee_id")
