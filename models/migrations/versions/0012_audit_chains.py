"""Audit chains: each event belongs to a chain (`audit_event.chain`, "" = the main chain, the
trail as it was), each chain has its head row (`audit_head.chain`), so appends to independent
chains never take the same row lock. On PostgreSQL the sequence numbers come from a sequence
(`audit_seq`), a head row's id from `audit_head_id_seq`; SQLite has one writer at a time.

Nothing hashed changes: every event kept so far stays in the main chain and verifies as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_SEQUENCES = [
    "CREATE SEQUENCE audit_seq AS bigint OWNED BY audit_event.seq",
    "SELECT setval('audit_seq', COALESCE(max(seq), 0) + 1, false) FROM audit_event",
    "CREATE SEQUENCE audit_head_id_seq AS integer OWNED BY audit_head.id",
    "SELECT setval('audit_head_id_seq', COALESCE(max(id), 0) + 1, false) FROM audit_head",
    "ALTER TABLE audit_head ALTER COLUMN id SET DEFAULT nextval('audit_head_id_seq')",
]


def upgrade() -> None:
    # Added in place (no batch copy on SQLite): the append-only triggers stay on the table.
    for table in ("audit_event", "audit_head"):
        op.add_column(table, sa.Column("chain", sa.String(128), nullable=False, server_default=""))
    op.create_index("ix_audit_event_chain_seq", "audit_event", ["chain", "seq"])
    op.create_index("ix_audit_head_chain", "audit_head", ["chain"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_SEQUENCES:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM audit_head WHERE chain <> ''")).scalar():
        raise RuntimeError("the trail has chains besides the main one: one chain cannot hold them")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_head ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE audit_head_id_seq")
        op.execute("DROP SEQUENCE audit_seq")
    op.drop_index("ix_audit_head_chain", table_name="audit_head")
    op.drop_column("audit_head", "chain")
    op.drop_index("ix_audit_event_chain_seq", table_name="audit_event")
    op.drop_column("audit_event", "chain")
