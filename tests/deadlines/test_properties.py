"""Properties of working-day deadlines over all of 2026 (and into 2027)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from grievance_flow.catalogue import Duration, DurationUnit
from grievance_flow.deadlines import WorkingCalendar, deadline_after

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar()  # shared on purpose: its cache makes the examples cheap


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=40),
    start=st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2026, 12, 31, 23, 59, 59),
        timezones=st.just(SHANGHAI),
    ),
)
def test_working_day_deadlines(n: int, start: datetime) -> None:
    due = deadline_after(
        start, Duration(DurationUnit.WORKING_DAYS, n), calendar=CALENDAR, tz=SHANGHAI
    )
    later = deadline_after(
        start, Duration(DurationUnit.WORKING_DAYS, n + 1), calendar=CALENDAR, tz=SHANGHAI
    )
    end = due.astimezone(SHANGHAI)
    assert (end.hour, end.minute, end.second, end.microsecond) == (0, 0, 0, 0)
    last_day = end.date() - timedelta(days=1)
    assert CALENDAR.is_working_day(last_day)
    assert later > due
    # Exactly n working days lie strictly after the start day, up to the last day.
    first = start.date() + timedelta(days=1)
    span = [first + timedelta(days=i) for i in range((last_day - first).days + 1)]
    assert sum(CALENDAR.is_working_day(day) for day in span) == n
