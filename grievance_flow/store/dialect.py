"""The one place the read model's SQL differs between SQLite and PostgreSQL.

Both dialects spell ``INSERT ... ON CONFLICT`` the same way in SQLAlchemy, but
through their own ``insert`` constructs; everything else is portable SQL.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

SUPPORTED = ("postgresql", "sqlite")
"""The databases the read model runs on."""


def insert_for(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` on ``table`` that supports ``on_conflict_do_*`` on ``dialect``.

    Raises:
        ValueError: ``dialect`` is not one the read model runs on.
    """
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"the read model runs on {' or '.join(SUPPORTED)}, not {dialect!r}")
