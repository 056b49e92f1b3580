"""The read model: cases, their events, and API keys.

Revision ID: 0001
Revises:
Create Date: 2026-05-01

Written by hand and frozen: it spells out plain SQLAlchemy types instead of
importing the models' column classes, so later code changes cannot change what
this revision creates. ``tests/store/test_migrations.py`` checks that the
models still match the migrated schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the three tables and their indexes."""
    op.create_table(
        "cases",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("tier", sa.String(), nullable=True),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("co_units", _json(), nullable=False),
        sa.Column("reporter_name", sa.String(), nullable=False),
        sa.Column("reporter_phone", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("grid", sa.String(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("sla_stage", sa.String(), nullable=True),
        sa.Column("due_at", _timestamp(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("closed_at", _timestamp(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("doc", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
    )
    op.create_index("ix_cases_external_id", "cases", ["external_id"], unique=True)
    for column in ("stage", "status", "category", "unit", "grid", "due_at", "created_at"):
        op.create_index(f"ix_cases_{column}", "cases", [column])

    op.create_table(
        "events",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("actor_role", sa.String(), nullable=False),
        sa.Column("actor_unit", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_events_case_id_cases", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "api_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_api_keys"),
    )


def downgrade() -> None:
    """Drop everything this revision created."""
    op.drop_table("api_keys")
    op.drop_table("events")
    for column in ("created_at", "due_at", "grid", "unit", "category", "status", "stage"):
        op.drop_index(f"ix_cases_{column}", table_name="cases")
    op.drop_index("ix_cases_external_id", table_name="cases")
    op.drop_table("cases")
