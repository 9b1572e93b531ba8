"""Lifecycles and the audit trail: obligations, self-assessments, screening cases,
commendations; the append-only, hash-chained audit trail and its head.

The allowed states of each table are the lifecycles' states as they were when this migration
was written, frozen here: a migration must not change when the code does.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CAMPAIGN_STATES = ("registered", "active", "reporting", "closed")
OBLIGATION_STATES = ("open", "reminded", "met", "overdue", "escalated", "met_late", "waived")
ASSESSMENT_STATES = ("pending", "submitted", "returned", "accepted", "excluded")
SCREENING_STATES = (
    "reviewing",
    "detected",
    "educating",
    "helping",
    "screening",
    "cleared",
    "removed",
)
COMMENDATION_STATES = ("nominated", "approved", "rejected")


def _states(table: str, states: Sequence[str]) -> sa.CheckConstraint:
    values = ", ".join(f"'{s}'" for s in states)
    return sa.CheckConstraint(f"state IN ({values})", name=op.f(f"ck_{table}_state"))


def _casework(name: str, states: Sequence[str], *, member_nullable: bool = False) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=member_nullable),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        *([sa.Column("leader", sa.Boolean(), nullable=False)] if name == "assessment" else []),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f(f"fk_{name}_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f(f"fk_{name}_member_id_member")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f(f"fk_{name}_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        _states(name, states),
        *(
            [sa.UniqueConstraint("campaign_id", "member_id", name=op.f(f"uq_{name}_campaign_id"))]
            if name == "assessment"
            else []
        ),
    )
    op.create_index(op.f(f"ix_{name}_member_id"), name, ["member_id"])
    op.create_index(op.f(f"ix_{name}_unit_id"), name, ["unit_id"])


SQLITE_GUARDS = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]
POSTGRES_GUARDS = [
    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
]


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.create_check_constraint("state", _states("campaign", CAMPAIGN_STATES).sqltext)
    op.create_table(
        "obligation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("window", sa.String(16), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("evidence_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_obligation_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_obligation_unit_id_unit")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_obligation_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligation")),
        sa.UniqueConstraint("campaign_id", "key", name=op.f("uq_obligation_campaign_id")),
        sa.CheckConstraint(
            "kind IN ('issue_plan', 'hold_session', 'self_assess', 'report_upward')",
            name=op.f("ck_obligation_kind"),
        ),
        _states("obligation", OBLIGATION_STATES),
    )
    op.create_index("ix_obligation_campaign_state", "obligation", ["campaign_id", "state"])
    op.create_index("ix_obligation_campaign_unit", "obligation", ["campaign_id", "unit_id"])
    op.create_index(op.f("ix_obligation_member_id"), "obligation", ["member_id"])
    _casework("assessment", ASSESSMENT_STATES)
    _casework("screening_case", SCREENING_STATES)
    _casework("commendation", COMMENDATION_STATES, member_nullable=True)
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
    )
    op.create_index("ix_audit_event_campaign_seq", "audit_event", ["campaign_id", "seq"])
    op.create_index(op.f("ix_audit_event_unit_id"), "audit_event", ["unit_id"])
    op.create_index(op.f("ix_audit_event_member_id"), "audit_event", ["member_id"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    guards = SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else POSTGRES_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_event_append_only() CASCADE")
    for table in (
        "audit_head",
        "audit_event",
        "commendation",
        "screening_case",
        "assessment",
        "obligation",
    ):
        op.drop_table(table)
    with op.batch_alter_table("campaign") as batch:
        batch.drop_constraint(op.f("ck_campaign_state"), type_="check")
