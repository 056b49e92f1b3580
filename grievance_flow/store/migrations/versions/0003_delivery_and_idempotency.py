"""Notice delivery state, and remembered answers to retried actions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Written by hand and frozen, like 0001 and 0002: plain SQLAlchemy types, no model imports.

- ``notices`` gains ``status`` (``pending``, ``retrying``, ``delivered`` or
  ``failed``), ``attempts``, ``last_error`` and ``last_attempt_at``, so a
  notice a receiver refused is visible instead of silently retried forever.
  Existing rows become ``delivered`` where ``delivered_at`` is set and
  ``pending`` otherwise.
- ``action_requests`` remembers the answer to every action sent with an
  ``Idempotency-Key`` (SPEC §4a): the same key on the same case answers as the
  first request did, refusals included (a refused Update never reaches the
  history, so Temporal cannot remember it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the delivery columns to ``notices`` and create ``action_requests``."""
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("status", sa.String(), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_attempt_at", _timestamp(), nullable=True))
    op.execute("UPDATE notices SET status = 'delivered' WHERE delivered_at IS NOT NULL")
    op.create_index("ix_notices_status", "notices", ["status"])

    op.create_table(
        "action_requests",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "key", name="pk_action_requests"),
    )


def downgrade() -> None:
    """Drop what this revision added; notices keep their other columns."""
    op.drop_table("action_requests")
    op.drop_index("ix_notices_status", table_name="notices")
    with op.batch_alter_table("notices", recreate="never") as batch:
        batch.drop_column("last_attempt_at")
        batch.drop_column("last_error")
        batch.drop_column("attempts")
        batch.drop_column("status")
