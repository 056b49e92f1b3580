"""Notices to units and the command centre, and each case's KPI facts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-08

Written by hand and frozen, like 0001: plain SQLAlchemy types, no model imports.

- ``notices``: every chase (催办), escalation (提级) and extension decision sent,
  keyed by the notice id the workflow chose, so a retried send is recorded once.
  No foreign key to ``cases``: the notice activity and the projection activity
  run independently, and a notice must be storable whichever lands first.
- ``cases`` gains ``accepted_on_time``, ``completed_on_time`` (NULL until the
  case is accepted / completed, and for rows projected before this revision)
  and ``overdue_stages`` (a JSON list, ``[]`` for existing rows).
- ``cases`` gains ``suggested_category`` (indexed): the classifier's best guess
  at intake, which is how possible duplicates are found (same grid, same
  suggested category, filed within 72 hours).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTICE_INDEXES = ("case_id", "recipient_unit", "at")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``notices`` and add the KPI columns to ``cases``, keeping every row."""
    op.create_table(
        "notices",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("recipient_role", sa.String(), nullable=False),
        sa.Column("recipient_unit", sa.String(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("delivered_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
    )
    for column in _NOTICE_INDEXES:
        op.create_index(f"ix_notices_{column}", "notices", [column])

    # Batch mode for SQLite's sake; adding columns with a literal default needs
    # no table copy there, so existing rows are altered in place on both databases.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("accepted_on_time", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("completed_on_time", sa.Boolean(), nullable=True))
        # The server default fills rows projected before this revision; NOT NULL
        # keeps "no overdue stage" a single value ([]) for later KPI queries.
        batch.add_column(sa.Column("overdue_stages", _json(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("suggested_category", sa.String(), nullable=True))
    op.create_index("ix_cases_suggested_category", "cases", ["suggested_category"])


def downgrade() -> None:
    """Drop what this revision added; cases and events stay."""
    # recreate="never": on SQLite a batch drop_column would copy ``cases`` and
    # drop the original, and with foreign keys on, that DROP cascades to every
    # event. Native ALTER TABLE ... DROP COLUMN (SQLite >= 3.35) touches no row.
    op.drop_index("ix_cases_suggested_category", table_name="cases")
    with op.batch_alter_table("cases", recreate="never") as batch:
        batch.drop_column("suggested_category")
        batch.drop_column("overdue_stages")
        batch.drop_column("completed_on_time")
        batch.drop_column("accepted_on_time")
    for column in reversed(_NOTICE_INDEXES):
        op.drop_index(f"ix_notices_{column}", table_name="notices")
    op.drop_table("notices")
