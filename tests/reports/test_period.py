"""Ranges in the catalogue's time zone: a Beijing month is not a UTC month."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from grievance_flow.reports.period import (
    PeriodError,
    current_month,
    month_period,
    parse_bound,
    period_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_month_runs_from_local_midnight_to_local_midnight() -> None:
    november = month_period("2026-11", SHANGHAI)
    assert november.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert november.end == datetime(2026, 11, 30, 16, tzinfo=UTC)
    december = month_period("2026-12", SHANGHAI)
    assert december.end == datetime(2027, 1, 1, tzinfo=SHANGHAI)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-11", "2026-11-01", ""])
def test_a_month_must_be_written_yyyy_mm(bad: str) -> None:
    with pytest.raises(PeriodError, match="YYYY-MM"):
        month_period(bad, SHANGHAI)


def test_a_date_is_its_local_midnight_and_a_naive_time_is_local() -> None:
    assert parse_bound("2026-11-01", SHANGHAI, name="from") == datetime(
        2026, 10, 31, 16, tzinfo=UTC
    )
    assert parse_bound("2026-11-01T08:30", SHANGHAI, name="from") == datetime(
        2026, 11, 1, 0, 30, tzinfo=UTC
    )
    assert parse_bound("2026-11-01T08:30Z", SHANGHAI, name="from") == datetime(
        2026, 11, 1, 8, 30, tzinfo=UTC
    )
    with pytest.raises(PeriodError, match="to must be a date"):
        parse_bound("yesterday", SHANGHAI, name="to")


def test_the_default_is_the_last_thirty_local_days_today_included() -> None:
    # 23:30 UTC on 30 November is already 1 December in Beijing.
    now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    period = period_between(None, None, SHANGHAI, now=now)
    assert period.end == datetime(2026, 12, 2, tzinfo=SHANGHAI)
    assert period.start == datetime(2026, 11, 2, tzinfo=SHANGHAI)
    assert current_month(SHANGHAI, now=now) == "2026-12"


def test_an_empty_range_is_refused() -> None:
    with pytest.raises(PeriodError, match="must be before to"):
        period_between("2026-11-02", "2026-11-02", SHANGHAI, now=datetime.now(UTC))
