"""Console accounts: who logs in, bound to which unit, in which role; the refusals a reviewer
reads; the key sessions are signed with.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_account_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("login", name=op.f("uq_account_login")),
        # Frozen literals, as in 0002: the roles of models.accounts.Role at this revision.
        sa.CheckConstraint(
            "role IN ('operator', 'secretary', 'reviewer')", name=op.f("ck_account_role")
        ),
    )
    op.create_table(
        "access_refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_access_refusal_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_refusal")),
    )
    op.create_index(op.f("ix_access_refusal_at"), "access_refusal", ["at"])
    op.create_index(op.f("ix_access_refusal_login"), "access_refusal", ["login"])
    op.create_table(
        "console_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_key")),
    )


def downgrade() -> None:
    op.drop_table("console_key")
    op.drop_index(op.f("ix_access_refusal_login"), table_name="access_refusal")
    op.drop_index(op.f("ix_access_refusal_at"), table_name="access_refusal")
    op.drop_table("access_refusal")
    op.drop_table("account")
