"""Date ranges as a command centre says them: "from 1 November", "the month 2026-11".

Every bound is a local instant in the catalogue's time zone, so "a month" is a
Beijing month (1 November 00:00 +08:00 to 1 December 00:00 +08:00), not a UTC one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DAYS = 30
"""The range when none is given: the last 30 local days, today included."""

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class PeriodError(ValueError):
    """A bound or a month that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Period:
    """``[start, end)``, both aware."""

    start: datetime
    end: datetime


def parse_bound(text: str, tz: ZoneInfo, *, name: str) -> datetime:
    """A date (``2026-11-01``: its local midnight) or an ISO datetime (naive: local).

    Raises:
        PeriodError: ``text`` is neither.
    """
    try:
        if len(text) == len("2026-11-01"):
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=tz)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PeriodError(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 datetime, got {text!r}"
        ) from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def period_between(start: str | None, end: str | None, tz: ZoneInfo, *, now: datetime) -> Period:
    """The range ``[start, end)``; a missing end is tomorrow's local midnight, a
    missing start :data:`DEFAULT_DAYS` local days before the end.

    Raises:
        PeriodError: A bound cannot be read, or the range is empty.
    """
    if end is None:
        upper = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(), tzinfo=tz)
    else:
        upper = parse_bound(end, tz, name="to")
    if start is None:
        local = upper.astimezone(tz)
        lower = datetime.combine(local.date() - timedelta(days=DEFAULT_DAYS), local.time(), tz)
    else:
        lower = parse_bound(start, tz, name="from")
    if upper <= lower:
        raise PeriodError(f"from ({lower.isoformat()}) must be before to ({upper.isoformat()})")
    return Period(start=lower, end=upper)


def month_period(month: str, tz: ZoneInfo) -> Period:
    """The local month ``YYYY-MM``.

    Raises:
        PeriodError: ``month`` is not a month written ``YYYY-MM``.
    """
    found = _MONTH.fullmatch(month)
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise PeriodError(f"a month is written YYYY-MM (e.g. 2026-11), got {month!r}")
    year, number = int(found.group(1)), int(found.group(2))
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    return Period(
        start=datetime(year, number, 1, tzinfo=tz),
        end=datetime(following[0], following[1], 1, tzinfo=tz),
    )


def current_month(tz: ZoneInfo, *, now: datetime) -> str:
    """``YYYY-MM`` of ``now`` in ``tz``."""
    return now.astimezone(tz).strftime("%Y-%m")
