"""Where the working-day calendar gets its data, one source per year.

Three published sources, tried in this order for a date the overrides do not
settle (SPEC §2):

1. ``chinese-calendar``: the State Council's arrangements, 调休 included, for
   the years published when the package was released (2004–2026 in 1.11).
2. ``holidays`` (``holidays.China``): the statutory and lunar holidays computed
   by rule for 1950–2100, with the 调休 working days and extra days off for the
   years whose notice it has transcribed. For any other year its answer is an
   estimate: the statutory days, moved off weekends by rule, and no weekend
   worked in lieu.
3. Weekends: Monday to Friday, the last resort.

Each source answers for whole years, so that one deadline's working days come
from a source the history can name (``StageDeadline.calendar_source``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

import chinese_calendar
from holidays import country_holidays
from holidays.countries.china import China


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:  # a source checkout without metadata
        return "unknown"


@dataclass(frozen=True)
class YearData:
    """What one source says about one year.

    ``days_off`` are the weekdays that are not worked, ``weekend_workdays`` the
    Saturdays and Sundays that are (调休). ``official_workdays`` is True when the
    source carries the year's published arrangement, not an estimate.
    """

    days_off: frozenset[date]
    weekend_workdays: frozenset[date]
    official_workdays: bool

    def is_working_day(self, day: date) -> bool:
        """Return True if the year's data makes ``day`` a working day."""
        if day.weekday() >= 5:
            return day in self.weekend_workdays
        return day not in self.days_off


class CalendarSource(Protocol):
    """A published calendar that answers for whole years."""

    name: str
    """Short name, e.g. ``holidays``; with :attr:`version` it names the data in history."""
    version: str

    def year(self, year: int) -> YearData | None:
        """The source's data for ``year``, or None if it does not cover the year."""
        ...


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


class _PackageSource:
    """A calendar package, read a year at a time and cached."""

    name = ""
    package = ""

    def __init__(self) -> None:
        """Read the installed package's version."""
        self.version = _version(self.package)
        self._years: dict[int, YearData | None] = {}
        self._lock = threading.Lock()

    def year(self, year: int) -> YearData | None:
        """The year's data, loaded once (activity threads ask concurrently)."""
        with self._lock:
            if year not in self._years:
                self._years[year] = self._load(year)
            return self._years[year]

    def _load(self, year: int) -> YearData | None:
        raise NotImplementedError


class ChineseCalendarSource(_PackageSource):
    """The ``chinese-calendar`` package: official arrangements, published years only.

    Every year it knows is an official arrangement.
    """

    name = package = "chinese-calendar"

    def _load(self, year: int) -> YearData | None:
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            return None
        days = _days_of(year)
        return YearData(
            days_off=frozenset(
                d for d in days if d.weekday() < 5 and not chinese_calendar.is_workday(d)
            ),
            weekend_workdays=frozenset(
                d for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d)
            ),
            official_workdays=True,
        )


class HolidaysSource(_PackageSource):
    """The ``holidays`` package's China calendar (public holidays, not half days).

    A year is computed by rule, official where the package has its notice.
    """

    name = package = "holidays"

    def _load(self, year: int) -> YearData | None:
        if not China.start_year <= year <= China.end_year:
            return None
        # A notice can move a weekend of the year before into this year's holiday
        # (2002's New Year took 29–30 December 2001), so read the next year too.
        china = country_holidays("CN", years=(year, year + 1))
        days_off = frozenset(d for d in china if d.year == year and d.weekday() < 5)
        workdays = frozenset(d for d in china.weekend_workdays if d.year == year)
        # The package lists 调休 days only for the years whose State Council
        # notice it has transcribed; any other year is its rule-based estimate.
        return YearData(
            days_off=days_off, weekend_workdays=workdays, official_workdays=bool(workdays)
        )


WEEKENDS = "weekends"
"""The last resort's name: Monday to Friday, no holidays."""

OVERRIDES = "overrides"
"""The name of the local overrides (catalogue ``calendar_overrides`` + CALENDAR_OVERRIDES)."""


def published_sources() -> tuple[CalendarSource, ...]:
    """The published sources, in the order they are asked."""
    return (ChineseCalendarSource(), HolidaysSource())
