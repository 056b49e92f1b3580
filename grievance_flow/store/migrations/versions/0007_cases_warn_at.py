"""Each open case's warning time (黄灯), beside its deadline, for the dashboard.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Written by hand and frozen: plain SQLAlchemy types, no model imports.

``cases.due_at`` says when the current stage turns red; ``warn_at`` (indexed)
says when it turns yellow, so "open, past warn_at, not yet due" is one plain
timestamp comparison on SQLite and PostgreSQL alike, rather than a JSON path
into ``doc`` spelt per dialect and compared as text. Open rows projected before
this revision are filled from their ``doc``'s deadline of the stage they are in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add ``cases.warn_at`` and fill it for open cases on a clock."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("warn_at", _timestamp(), nullable=True))
    op.create_index("ix_cases_warn_at", "cases", ["warn_at"])
    _fill_from_doc()


def downgrade() -> None:
    """Drop ``warn_at``; every row stays."""
    op.drop_index("ix_cases_warn_at", table_name="cases")
    # recreate="never": a table copy on SQLite would cascade-delete the events.
    with op.batch_alter_table("cases", recreate="never") as batch:
        batch.drop_column("warn_at")


def _fill_from_doc() -> None:
    connection = op.get_bind()
    cases = sa.table(
        "cases",
        sa.column("id", sa.String()),
        sa.column("status", sa.String()),
        sa.column("sla_stage", sa.String()),
        sa.column("doc", sa.JSON()),
        sa.column("warn_at", _timestamp()),
    )
    rows = connection.execute(
        sa.select(cases.c.id, cases.c.sla_stage, cases.c.doc).where(
            cases.c.status == "open", cases.c.sla_stage.is_not(None)
        )
    ).all()
    sqlite = connection.dialect.name == "sqlite"
    for case_id, stage, doc in rows:
        warn_at = _warn_at(doc, stage)
        if warn_at is None:
            continue
        # SQLite keeps naive UTC (as the read model's UTCDateTime writes it).
        value = warn_at.astimezone(UTC).replace(tzinfo=None) if sqlite else warn_at
        connection.execute(cases.update().where(cases.c.id == case_id).values(warn_at=value))


def _warn_at(doc: Any, stage: str) -> datetime | None:
    if isinstance(doc, str):  # a JSON column read back through a plain type
        doc = json.loads(doc)
    clock = (doc or {}).get("deadlines", {}).get(stage) or {}
    text = clock.get("warn_at")
    if not isinstance(text, str):
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
