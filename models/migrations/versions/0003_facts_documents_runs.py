"""Facts, issued documents and runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_fact_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_fact_unit_id_unit")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_fact_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fact")),
        sa.UniqueConstraint("campaign_id", "key", name=op.f("uq_fact_campaign_id")),
        sa.CheckConstraint(
            "kind IN ('plan_issued','session_held','self_assessment_submitted',"
            "'self_assessment_accepted','self_assessment_returned','screening_opened',"
            "'screening_step','exemplar_nominated','exemplar_approved','exemplar_rejected',"
            "'activity_held','report_submitted')",
            name=op.f("ck_fact_kind"),
        ),
    )
    op.create_index("ix_fact_campaign_applied", "fact", ["campaign_id", "applied_on", "date"])
    op.create_index(op.f("ix_fact_unit_id"), "fact", ["unit_id"])
    op.create_index(op.f("ix_fact_member_id"), "fact", ["member_id"])
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_document_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_document_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("campaign_id", "key", name=op.f("uq_document_campaign_id")),
    )
    op.create_index(op.f("ix_document_campaign_id"), "document", ["campaign_id"])
    op.create_index(op.f("ix_document_unit_id"), "document", ["unit_id"])
    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("transitions", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_run_campaign_id_campaign")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run")),
    )
    op.create_index(op.f("ix_run_campaign_id"), "run", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("run")
    op.drop_table("document")
    op.drop_table("fact")
