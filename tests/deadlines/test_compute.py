"""Deadline arithmetic: working days end at local midnight, calendar time is elapsed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from grievance_flow.catalogue import CalendarOverrides, Duration, DurationUnit
from grievance_flow.deadlines import WorkingCalendar, deadline_after, warn_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def working_days(n: int) -> Duration:
    return Duration(DurationUnit.WORKING_DAYS, n)


def due(start: datetime, duration: Duration, calendar: WorkingCalendar = CALENDAR) -> datetime:
    return deadline_after(start, duration, calendar=calendar, tz=SHANGHAI)


def test_spec_example_national_day() -> None:
    result = due(local(2026, 9, 30, 10), working_days(3))
    assert result == local(2026, 10, 11)  # the end of Saturday 10 October, worked in lieu
    assert result.isoformat() == "2026-10-10T16:00:00+00:00"
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "n", "last_day"),
    [
        (local(2026, 2, 13, 15), 1, date(2026, 2, 14)),  # Saturday worked before the holiday
        (local(2026, 2, 13, 15), 2, date(2026, 2, 24)),  # 15-23 February are off
        (local(2026, 2, 14, 9), 1, date(2026, 2, 24)),
        (local(2026, 2, 16, 9), 5, date(2026, 2, 28)),  # filed mid-holiday; 28th worked
    ],
)
def test_spring_festival_2026(start: datetime, n: int, last_day: date) -> None:
    end = last_day + timedelta(days=1)
    assert due(start, working_days(n)) == local(end.year, end.month, end.day)


def test_the_day_counts_in_the_catalogue_time_zone() -> None:
    # 17:00 UTC on 29 September is already 30 September in Shanghai.
    start = datetime(2026, 9, 29, 17, tzinfo=UTC)
    assert due(start, working_days(3)) == local(2026, 10, 11)


@pytest.mark.parametrize(
    ("duration", "delta"),
    [
        (Duration(DurationUnit.SECONDS, 90), timedelta(seconds=90)),
        (Duration(DurationUnit.MINUTES, 30), timedelta(minutes=30)),
        (Duration(DurationUnit.HOURS, 24), timedelta(hours=24)),  # holidays do not pause it
    ],
)
def test_calendar_durations_are_elapsed_time(duration: Duration, delta: timedelta) -> None:
    start = local(2026, 10, 1, 23, 50)
    result = due(start, duration)
    assert result == start + delta
    assert result.tzinfo is UTC


def test_calendar_hours_ignore_daylight_saving() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 7, 12, tzinfo=new_york)  # DST starts 8 March
    result = deadline_after(start, Duration(DurationUnit.HOURS, 24), calendar=CALENDAR, tz=new_york)
    assert result - start == timedelta(hours=24)
    assert result.astimezone(new_york).hour == 13


def test_year_not_covered_counts_weekdays() -> None:
    start = local(2031, 1, 3, 10)  # a Friday
    assert due(start, working_days(1)) == local(2031, 1, 7)  # end of Monday 6 January
    assert due(start, working_days(5)) == local(2031, 1, 11)  # end of Friday 10 January


def test_holiday_override_skips_a_day() -> None:
    calendar = WorkingCalendar(CalendarOverrides(holidays=frozenset({date(2026, 3, 10)})))
    start = local(2026, 3, 9, 10)  # Monday
    assert due(start, working_days(1)) == local(2026, 3, 11)
    assert due(start, working_days(1), calendar) == local(2026, 3, 12)


def test_workday_override_on_a_sunday_counts() -> None:
    calendar = WorkingCalendar(CalendarOverrides(workdays=frozenset({date(2026, 3, 8)})))
    start = local(2026, 3, 6, 10)  # Friday
    assert due(start, working_days(1)) == local(2026, 3, 10)
    assert due(start, working_days(1), calendar) == local(2026, 3, 9)


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due(datetime(2026, 9, 30, 10), working_days(3))
    with pytest.raises(ValueError, match="timezone-aware"):
        due(datetime(2026, 9, 30, 10), Duration(DurationUnit.HOURS, 1))


def test_warn_time_is_the_ratio_of_the_span_truncated_to_seconds() -> None:
    start = datetime(2026, 3, 9, 2, 0, 0, 500_000, tzinfo=UTC)
    assert warn_time(start, start + timedelta(seconds=10), 0.8) == datetime(
        2026, 3, 9, 2, 0, 8, tzinfo=UTC
    )
    assert warn_time(start, start + timedelta(seconds=10), 0.1) == datetime(
        2026, 3, 9, 2, 0, 1, tzinfo=UTC
    )
    begin = local(2026, 9, 30, 10)
    end = due(begin, working_days(3))  # 254 hours later
    assert warn_time(begin, end, 0.8) == begin + timedelta(hours=203, minutes=12)


@pytest.mark.parametrize(
    ("start", "end", "ratio", "message"),
    [
        (datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC), 0.5, "timezone-aware"),
        (datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), 0.5, "before"),
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), 1.5, "ratio"),
    ],
)
def test_warn_time_rejects_bad_input(
    start: datetime, end: datetime, ratio: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        warn_time(start, end, ratio)
