"""Column types of the read model's tables.

Migrations do not import these (a revision must not change when this code
does); they spell out the underlying types, which is what the database sees.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

JSONType: sa.types.TypeEngine[Any] = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
"""JSON on SQLite, JSONB on PostgreSQL (indexable, compact, and comparable later for KPIs)."""


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC both when written and when read.

    PostgreSQL stores ``timestamptz`` and returns it in the session's time zone;
    SQLite has no timestamp type and SQLAlchemy silently drops the offset. So
    values are normalised to UTC on the way in (on SQLite stored naive, which
    keeps string comparison in ``WHERE due_at < :now`` correct) and marked UTC on
    the way out. Naive datetimes are refused: in a hotline spanning a UTC+8
    working day, guessing the zone would move deadlines by eight hours.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored instant as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
