"""The working-day calendar of mainland China, with local overrides (SPEC §2).

For each date, the first of these that has an answer decides:

1. the overrides (the catalogue's ``calendar_overrides`` and the operator's
   CALENDAR_OVERRIDES file), which is where a newly published State Council
   schedule goes the day it is announced;
2. ``chinese-calendar``, for the years it covers (the State Council's
   arrangements, including the weekend days worked in lieu, 调休);
3. ``holidays``' China calendar, for the years it covers: by rule, with 调休
   only where it has the year's notice (see :mod:`grievance_flow.deadlines.sources`);
4. Monday to Friday.

A year without an official 调休 arrangement loaded is logged once at WARNING
when a deadline first counts a day in it: a deadline that is a little off is
better than a case with no deadline, and an operator can correct the year with
an overrides file.

Because this data changes between releases, deadlines are computed in an
activity and recorded in workflow history (with the sources that served them),
never recomputed on replay.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from grievance_flow.catalogue.fields import FieldError, parse_calendar_overrides
from grievance_flow.catalogue.model import CalendarOverrides
from grievance_flow.deadlines.sources import (
    OVERRIDES,
    WEEKENDS,
    CalendarSource,
    YearData,
    published_sources,
)

logger = logging.getLogger(__name__)


class OverridesFileError(ValueError):
    """A calendar-overrides file is malformed; the message names the bad entry."""


@dataclass(frozen=True)
class ServedYear:
    """Which published source serves a year, and what it says about it.

    ``source`` is the source's name (``chinese-calendar``, ``holidays`` or
    ``weekends``), ``label`` the name with the data's version as it is recorded
    in history (``holidays 0.109``), ``data`` None for the weekends fallback.
    """

    year: int
    source: str
    version: str | None
    data: YearData | None

    @property
    def label(self) -> str:
        """``name version``, or just the name for the weekends fallback."""
        return self.source if self.version is None else f"{self.source} {self.version}"

    @property
    def official_workdays(self) -> bool:
        """True if the source carries the year's published 调休 arrangement."""
        return self.data is not None and self.data.official_workdays


class WorkingCalendar:
    """Answers "is this a working day?" from the overrides and the published sources.

    Thread-safe enough for a worker's activity threads: the caches only ever
    gain entries computed from immutable data, so a race at worst computes a
    day twice; the once-per-year warning is guarded by a lock.
    """

    def __init__(
        self,
        overrides: CalendarOverrides | None = None,
        *,
        sources: Sequence[CalendarSource] | None = None,
    ) -> None:
        """Build a calendar.

        Args:
            overrides: Local holidays and working days; they win over every
                published source and over the weekend fallback.
            sources: The published sources in the order they are asked;
                chinese-calendar then holidays by default.
        """
        self.overrides = overrides if overrides is not None else CalendarOverrides()
        self.sources: tuple[CalendarSource, ...] = (
            tuple(sources) if sources is not None else published_sources()
        )
        self._days: dict[date, bool] = {}
        self._served: dict[int, ServedYear] = {}
        self._warned: set[int] = set()
        self._lock = threading.Lock()

    def served(self, year: int) -> ServedYear:
        """The published source that answers for ``year`` (the weekends at worst)."""
        served = self._served.get(year)
        if served is None:
            served = ServedYear(year, WEEKENDS, None, None)
            for source in self.sources:
                data = source.year(year)
                if data is not None:
                    served = ServedYear(year, source.name, source.version, data)
                    break
            self._served[year] = served
        return served

    def override_days(self, year: int) -> tuple[int, int]:
        """How many holidays and working days the overrides list in ``year``."""
        holidays = sum(1 for d in self.overrides.holidays if d.year == year)
        workdays = sum(1 for d in self.overrides.workdays if d.year == year)
        return holidays, workdays

    def covers(self, year: int) -> bool:
        """Return True if an official 调休 arrangement for ``year`` is loaded.

        Either a published source carries the year's notice, or the overrides
        list at least one working day in it: a State Council schedule always
        names the weekend days worked in lieu, local extra holidays never do.
        """
        return self.served(year).official_workdays or self.override_days(year)[1] > 0

    def is_working_day(self, day: date) -> bool:
        """Return True if ``day`` is a working day (overrides, then the year's source)."""
        cached = self._days.get(day)
        if cached is None:
            cached = self._decide(day)
            self._days[day] = cached
        return cached

    def source_of(self, day: date) -> str:
        """The label of what decides ``day``: ``overrides`` or the year's source."""
        if day in self.overrides.holidays or day in self.overrides.workdays:
            return OVERRIDES
        return self.served(day.year).label

    def sources_between(self, first: date, last: date) -> list[str]:
        """The labels of what decides the days after ``first`` up to ``last``, in source order."""
        labels: set[str] = set()
        day = first + timedelta(days=1)
        while day <= last:
            labels.add(self.source_of(day))
            day += timedelta(days=1)
        return self.in_source_order(labels)

    def in_source_order(self, labels: Iterable[str]) -> list[str]:
        """Sort source labels the way they are asked: overrides first, weekends last."""
        rank = {OVERRIDES: 0, WEEKENDS: len(self.sources) + 1}
        rank.update({source.name: n for n, source in enumerate(self.sources, start=1)})
        return sorted(set(labels), key=lambda label: (rank.get(label.split(" ")[0], 99), label))

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
        served = self.served(day.year)
        if not self.covers(day.year):
            self._warn_once(served)
        if served.data is None:
            return day.weekday() < 5
        return served.data.is_working_day(day)

    def _warn_once(self, served: ServedYear) -> None:
        with self._lock:
            if served.year in self._warned:
                return
            self._warned.add(served.year)
        logger.warning("%s", no_arrangement_warning(served))


def no_arrangement_warning(served: ServedYear) -> str:
    """The sentence logged (and shown by /readyz) for a year with no official 调休 loaded."""
    if served.data is None:
        how = "counting Monday to Friday as working days, with no holidays"
    else:
        how = (
            f"counting only the statutory holidays computed by rule ({served.label}), "
            "with no weekend worked in lieu"
        )
    return (
        f"no official holiday arrangement (调休) is loaded for {served.year}: {how}; "
        f"add the State Council's {served.year} schedule to the calendar overrides file "
        "(CALENDAR_OVERRIDES) as soon as it is published"
    )


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
