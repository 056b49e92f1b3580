"""Repeat callers found without their phone in clear: ``cases.reporter_phone_hash``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Written by hand and frozen: plain SQLAlchemy types, no model imports.

The hash is keyed by the codec ring, which a migration does not have: rows
projected before this revision keep NULL (and their name and phone as they
were) until they are projected again; ``grievance projection rebuild`` does
all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the indexed hash column."""
    with op.batch_alter_table("cases", recreate="never") as batch:
        batch.add_column(sa.Column("reporter_phone_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_cases_reporter_phone_hash", "cases", ["reporter_phone_hash"])


def downgrade() -> None:
    """Drop it; every row stays."""
    op.drop_index("ix_cases_reporter_phone_hash", table_name="cases")
    with op.batch_alter_table("cases", recreate="never") as batch:
        batch.drop_column("reporter_phone_hash")
