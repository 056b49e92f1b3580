"""Deadline arithmetic for SLA clocks (SPEC §2).

Calendar durations (seconds, minutes, hours) are elapsed time; working days end
at 24:00 local time of the n-th working day *after* the day the clock started,
so a case filed at 23:59 and one filed at 00:01 the same day get the same
deadline, as 12345 practice counts it. Results are in UTC so that recorded
deadlines compare and serialise the same way everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from grievance_flow.catalogue.model import Duration
from grievance_flow.deadlines.calendar import WorkingCalendar


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def deadline_after(
    start: datetime,
    duration: Duration,
    *,
    calendar: WorkingCalendar,
    tz: ZoneInfo,
) -> datetime:
    """Return when a clock of ``duration`` started at ``start`` runs out.

    Args:
        start: When the clock started; must be timezone-aware.
        duration: The allowed time.
        calendar: Decides which days are working days.
        tz: The time zone working days are counted in (the catalogue's).

    Returns:
        The deadline as an aware UTC datetime. For ``working_days: n`` it is
        local midnight at the end of the n-th working day strictly after the
        local date of ``start``.

    Raises:
        ValueError: If ``start`` is naive.
    """
    _require_aware(start, "start")
    if not duration.is_working_days:
        # Add in UTC: aware arithmetic in a zone with DST is wall-clock time,
        # and an SLA of 24 hours means 24 elapsed hours.
        return start.astimezone(UTC) + duration.as_timedelta()
    last_day = calendar.nth_working_day_after(start.astimezone(tz).date(), duration.amount)
    end_of_day = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
    return end_of_day.astimezone(UTC)


def warn_time(start: datetime, due: datetime, ratio: float) -> datetime:
    """Return when a clock turns yellow: ``start + ratio * (due - start)``.

    Truncated to whole seconds (never later than the exact instant), in UTC.

    Args:
        start: When the clock started (aware).
        due: The deadline (aware, not before ``start``).
        ratio: The policy's ``warn_at``, between 0 and 1.

    Raises:
        ValueError: If a datetime is naive, ``due`` precedes ``start``, or
            ``ratio`` is outside [0, 1].
    """
    _require_aware(start, "start")
    _require_aware(due, "due")
    if due < start:
        raise ValueError(f"due {due.isoformat()} is before start {start.isoformat()}")
    if not 0 <= ratio <= 1:
        raise ValueError(f"ratio must be between 0 and 1, got {ratio!r}")
    # Work in whole microseconds so long clocks do not pick up float error.
    span = (due - start) // timedelta(microseconds=1)
    exact = start.astimezone(UTC) + timedelta(microseconds=int(span * ratio))
    return exact.replace(microsecond=0)
