"""The intake's duplicate search by index: grid, suggested category, status, filing time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08

Written by hand and frozen: plain SQLAlchemy types, no model imports.

Every filing asks for the ten newest open cases of its grid and suggested
category (``queries.possible_duplicates``, for 并单). With only single-column
indexes SQLite read every open case of the grid and sorted them: in the
Beijing-day benchmark, 79 % of the worker's CPU at 57,000 open cases, and the
day fell behind (README, "A Beijing day"). This index answers it with a seek.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the composite index."""
    op.create_index(
        "ix_cases_duplicates",
        "cases",
        ["grid", "suggested_category", "status", "created_at", "id"],
    )


def downgrade() -> None:
    """Drop it; every row stays."""
    op.drop_index("ix_cases_duplicates", table_name="cases")
