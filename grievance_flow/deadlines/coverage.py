"""Which calendar data serves each year, and the warning when a year has none official.

Shown by ``GET /v1/catalogue`` and ``GET /readyz`` and logged at start-up, so an
operator sees weeks ahead that the State Council's next schedule must be added
to the overrides file, instead of finding out from a deadline that ran through
Spring Festival. "Today" is always a parameter, so tests are deterministic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from grievance_flow.deadlines.calendar import WorkingCalendar, no_arrangement_warning

logger = logging.getLogger(__name__)

HORIZON_DAYS = 60
"""How far ahead a year without an official arrangement is warned about."""


@dataclass(frozen=True)
class YearCoverage:
    """One year: the published source serving it and what the overrides add.

    ``official_workdays`` is True when an official 调休 arrangement is loaded
    for the year, from the source or from the overrides (see
    :meth:`WorkingCalendar.covers`).
    """

    year: int
    source: str
    version: str | None
    official_workdays: bool
    override_holidays: int
    override_workdays: int


@dataclass(frozen=True)
class CalendarCoverage:
    """The years around ``today`` and the warnings for the next ``horizon_days``."""

    today: date
    horizon_days: int
    years: tuple[YearCoverage, ...]
    warnings: tuple[str, ...]


def _year(calendar: WorkingCalendar, year: int) -> YearCoverage:
    served = calendar.served(year)
    holidays, workdays = calendar.override_days(year)
    return YearCoverage(
        year=year,
        source=served.source,
        version=served.version,
        official_workdays=calendar.covers(year),
        override_holidays=holidays,
        override_workdays=workdays,
    )


def calendar_coverage(
    calendar: WorkingCalendar, today: date, *, horizon_days: int = HORIZON_DAYS
) -> CalendarCoverage:
    """Report the coverage of last year, this year, the horizon's years and the next.

    Years the overrides mention after last year are listed too. A warning is
    given for each year that a day of the next ``horizon_days`` (today
    included) falls in and that has no official 调休 arrangement loaded.
    """
    horizon_end = today + timedelta(days=horizon_days)
    years = set(range(today.year - 1, max(horizon_end.year, today.year + 1) + 1))
    mentioned = {d.year for d in calendar.overrides.holidays | calendar.overrides.workdays}
    years |= {year for year in mentioned if year >= today.year - 1}
    coverage = tuple(_year(calendar, year) for year in sorted(years))
    warnings = []
    for year in range(today.year, horizon_end.year + 1):
        if calendar.covers(year):
            continue
        first = max(today, date(year, 1, 1))
        last = min(horizon_end, date(year, 12, 31))
        warnings.append(
            f"{first.isoformat()} to {last.isoformat()}, within the next {horizon_days} "
            f"days: {no_arrangement_warning(calendar.served(year))}"
        )
    return CalendarCoverage(
        today=today, horizon_days=horizon_days, years=coverage, warnings=tuple(warnings)
    )


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """The date in the catalogue's time zone (working days are counted in it)."""
    return (now or datetime.now(UTC)).astimezone(tz).date()


def log_calendar_coverage(
    calendar: WorkingCalendar,
    today: date,
    *,
    horizon_days: int = HORIZON_DAYS,
    log: logging.Logger = logger,
) -> CalendarCoverage:
    """Log the coverage at start-up: a line per year at INFO, each warning at WARNING.

    Call it once where the domain is loaded, e.g.
    ``log_calendar_coverage(domain.calendar, local_today(catalogue.timezone_info))``.
    """
    coverage = calendar_coverage(calendar, today, horizon_days=horizon_days)
    for year in coverage.years:
        version = "" if year.version is None else f" {year.version}"
        arrangement = "official 调休" if year.official_workdays else "NO official 调休"
        log.info(
            "working-day calendar %d: %s%s, %s; overrides: %d holidays, %d working days",
            year.year,
            year.source,
            version,
            arrangement,
            year.override_holidays,
            year.override_workdays,
        )
    for warning in coverage.warnings:
        log.warning("working-day calendar: %s", warning)
    return coverage
