"""Who acted (SPEC §7): keys get a stable id and can be revoked; events keep the holder.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Written by hand and frozen: plain SQLAlchemy types, no model imports.

- ``api_keys`` gains ``key_id`` (unique; ``k_`` and the first 16 hex digits of
  the key's SHA-256, so it names a key without revealing it; existing keys get
  theirs from their hash) and ``revoked_at`` (NULL: valid). ``label`` keeps its
  name and is the key's holder.
- ``events`` gains ``actor_holder`` and ``actor_key_id`` (NULL for the system
  and for events projected before this revision; a rebuild fills them from
  the histories, where recorded).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the key columns (filling ``key_id``) and the event actor's holder and key id."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE api_keys SET key_id = 'k_' || substr(key_hash, 1, 16)")
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("key_id", existing_type=sa.String(length=32), nullable=False)
    op.create_index("ix_api_keys_key_id", "api_keys", ["key_id"], unique=True)
    with op.batch_alter_table("events", recreate="never") as batch:
        batch.add_column(sa.Column("actor_holder", sa.String(), nullable=True))
        batch.add_column(sa.Column("actor_key_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Drop them again; every row stays."""
    # recreate="never": a table copy on SQLite would cascade-delete the events.
    with op.batch_alter_table("events", recreate="never") as batch:
        batch.drop_column("actor_key_id")
        batch.drop_column("actor_holder")
    op.drop_index("ix_api_keys_key_id", table_name="api_keys")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("key_id")
