"""Events found by time: Open311's ``servicerequestupdates`` lists them by ``at``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Written by hand and frozen: plain SQLAlchemy types, no model imports.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index ``events.at``."""
    op.create_index("ix_events_at", "events", ["at"])


def downgrade() -> None:
    """Drop the index; every row stays."""
    op.drop_index("ix_events_at", table_name="events")
