"""The working-day calendar of mainland China, with local overrides (SPEC §2).

Official data comes from the ``chinese_calendar`` package, which knows the
State Council's holiday arrangements including the weekend days worked in lieu
(调休). It only covers the years published when it was released; for any other
year we count Monday to Friday and log a warning once per year, because a
deadline that is a little off is better than a case with no deadline, and an
operator can correct it with an overrides file.

Because this data changes between releases, deadlines are computed in an
activity and recorded in workflow history, never recomputed on replay.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from grievance_flow.catalogue.fields import FieldError, parse_calendar_overrides
from grievance_flow.catalogue.model import CalendarOverrides

logger = logging.getLogger(__name__)


class OverridesFileError(ValueError):
    """A calendar-overrides file is malformed; the message names the bad entry."""


class WorkingCalendar:
    """Answers "is this a working day?" for the official calendar plus overrides.

    Thread-safe enough for a worker's activity threads: the caches only ever
    gain entries computed from immutable data, so a race at worst computes a
    day twice (or logs a fallback warning twice).
    """

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        """Build a calendar.

        Args:
            overrides: Local holidays and working days; they win over the
                official calendar and over the weekend fallback.
        """
        self.overrides = overrides if overrides is not None else CalendarOverrides()
        self._days: dict[date, bool] = {}
        self._covered: dict[int, bool] = {}
        self._warned: set[int] = set()

    def covers(self, year: int) -> bool:
        """Return True if the official calendar has data for ``year``."""
        covered = self._covered.get(year)
        if covered is None:
            try:
                chinese_calendar.is_workday(date(year, 1, 1))
                covered = True
            except NotImplementedError:
                covered = False
            self._covered[year] = covered
        return covered

    def is_working_day(self, day: date) -> bool:
        """Return True if ``day`` is a working day.

        Overrides first, then the official calendar, then (for a year it does
        not cover) Monday to Friday.
        """
        cached = self._days.get(day)
        if cached is None:
            cached = self._decide(day)
            self._days[day] = cached
        return cached

    def nth_working_day_after(self, day: date, n: int) -> date:
        """Return the ``n``-th working day strictly after ``day`` (n >= 1).

        Raises:
            ValueError: If ``n`` is below 1.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        current = day
        while n:
            current += timedelta(days=1)
            if self.is_working_day(current):
                n -= 1
        return current

    def _decide(self, day: date) -> bool:
        if day in self.overrides.holidays:
            return False
        if day in self.overrides.workdays:
            return True
        if self.covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        if day.year not in self._warned:
            self._warned.add(day.year)
            logger.warning(
                "the official holiday calendar has no data for %d: counting Monday to "
                "Friday as working days; add the year's holidays to a calendar "
                "overrides file (CALENDAR_OVERRIDES) or upgrade chinese-calendar",
                day.year,
            )
        return day.weekday() < 5


def load_overrides_file(path: Path) -> CalendarOverrides:
    """Read a calendar-overrides file ``{holidays: [YYYY-MM-DD...], workdays: [...]}``.

    ``.json`` files are read as JSON, anything else as YAML.

    Raises:
        OverridesFileError: If the file is not valid or a date is malformed or
            listed as both a holiday and a working day.
        OSError: If the file cannot be read.
    """
    text = Path(path).read_text("utf-8")
    try:
        data: Any = json.loads(text) if Path(path).suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:  # JSONDecodeError is a ValueError
        raise OverridesFileError(f"calendar overrides {path}: not valid: {exc}") from exc
    try:
        return parse_calendar_overrides({} if data is None else data, "")
    except FieldError as exc:
        raise OverridesFileError(f"calendar overrides {path}: {exc}") from exc


def merge(a: CalendarOverrides, b: CalendarOverrides) -> CalendarOverrides:
    """Combine two sets of overrides; where they disagree about a date, ``b`` wins.

    Typical use: ``merge(catalogue.calendar_overrides, load_overrides_file(env_file))``,
    so the operator's file can correct the catalogue.
    """
    return CalendarOverrides(
        holidays=(a.holidays - b.workdays) | b.holidays,
        workdays=(a.workdays - b.holidays) | b.workdays,
    )
