"""The version of each projected row: when the workflow task that wrote it started.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Written by hand and frozen: plain SQLAlchemy types, no model imports.

A projection runs inside a workflow task, before Temporal has recorded that
task. When the task is lost (its worker killed) and run again, the new run's
events get their own times and the rows the lost run wrote must give way: the
history is the truth. ``version`` (0 for rows written before this revision)
(the task's start in microseconds) says which run wrote a row, so a later run
replaces it and a late, lost one never does.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("cases", "events")


def upgrade() -> None:
    """Add ``version`` (0 for existing rows) to ``cases`` and ``events``."""
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("version", sa.BigInteger(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    """Drop ``version``; every row stays."""
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("version")
