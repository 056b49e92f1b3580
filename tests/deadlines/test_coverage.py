"""Per-year calendar coverage and the warning for a year with no official 调休."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from grievance_flow.catalogue import CalendarOverrides
from grievance_flow.deadlines import (
    WorkingCalendar,
    calendar_coverage,
    local_today,
    log_calendar_coverage,
)


def test_sixty_days_before_2027_the_missing_arrangement_is_warned() -> None:
    coverage = calendar_coverage(WorkingCalendar(), date(2026, 12, 1))
    by_year = {year.year: year for year in coverage.years}
    assert sorted(by_year) == [2025, 2026, 2027]
    assert by_year[2026].source == "chinese-calendar" and by_year[2026].official_workdays
    assert by_year[2027].source == "holidays" and not by_year[2027].official_workdays
    assert len(coverage.warnings) == 1
    assert coverage.warnings[0].startswith("2027-01-01 to 2027-01-30, within the next 60 days")
    assert "CALENDAR_OVERRIDES" in coverage.warnings[0]


def test_no_warning_while_the_horizon_stays_in_covered_years() -> None:
    coverage = calendar_coverage(WorkingCalendar(), date(2026, 11, 1))
    assert coverage.warnings == ()
    # The day the horizon reaches 2027 (1 January is 61 days after 1 November), it warns.
    assert calendar_coverage(WorkingCalendar(), date(2026, 11, 2)).warnings != ()


def test_the_published_schedule_in_the_overrides_silences_the_warning() -> None:
    schedule = CalendarOverrides(
        holidays=frozenset({date(2027, 2, 11), date(2027, 2, 12)}),
        workdays=frozenset({date(2027, 2, 20)}),
    )
    coverage = calendar_coverage(WorkingCalendar(schedule), date(2026, 12, 1))
    assert coverage.warnings == ()
    (year_2027,) = [year for year in coverage.years if year.year == 2027]
    assert year_2027.official_workdays
    assert (year_2027.override_holidays, year_2027.override_workdays) == (2, 1)


def test_later_override_years_are_listed_and_beyond_2100_is_weekends() -> None:
    overrides = CalendarOverrides(holidays=frozenset({date(2101, 1, 3)}))
    coverage = calendar_coverage(WorkingCalendar(overrides), date(2026, 6, 1))
    assert [year.year for year in coverage.years] == [2025, 2026, 2027, 2101]
    assert coverage.years[-1].source == "weekends" and coverage.years[-1].version is None


def test_start_up_log_says_each_year_and_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="grievance_flow.deadlines.coverage"):
        log_calendar_coverage(WorkingCalendar(), date(2026, 12, 1))
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    infos = [message for level, message in lines if level == logging.INFO]
    assert any(m.startswith("working-day calendar 2026: chinese-calendar ") for m in infos)
    assert any(m.startswith("working-day calendar 2027: holidays ") for m in infos)
    assert any("2027" in m and "NO official 调休" in m for m in infos)
    warnings = [message for level, message in lines if level == logging.WARNING]
    assert len(warnings) == 1 and "2027" in warnings[0]


def test_today_is_counted_in_the_catalogue_time_zone() -> None:
    # 16:30 UTC on 31 December is already 1 January in Shanghai.
    now = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert local_today(ZoneInfo("Asia/Shanghai"), now) == date(2027, 1, 1)
