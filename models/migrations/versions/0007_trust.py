"""Trust under faults: runs that cannot collide, an outbox of announcements, an anchored
audit head, audited roster changes, and one length limit on both backends.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op  # noqa: F401

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Each section below belongs to one part of the change; they run in this order.


def _runs_upgrade() -> None:
    """Runs: the Prefect flow run of each run, and the outbox of announcements."""


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
