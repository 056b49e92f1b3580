"""The working-day calendar: official data, fallback years, overrides files."""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path

import pytest

from grievance_flow.catalogue import CalendarOverrides
from grievance_flow.deadlines import OverridesFileError, WorkingCalendar, load_overrides_file, merge


def test_official_calendar_with_days_worked_in_lieu() -> None:
    calendar = WorkingCalendar()
    assert calendar.covers(2026)
    assert not calendar.is_working_day(date(2026, 10, 1))  # National Day
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday worked in lieu (调休)
    assert not calendar.is_working_day(date(2026, 10, 17))  # an ordinary Saturday
    assert calendar.is_working_day(date(2026, 2, 14))  # Saturday before Spring Festival
    assert not calendar.is_working_day(date(2026, 2, 23))  # Monday, still Spring Festival


def test_a_year_without_an_official_arrangement_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 2031 is beyond chinese-calendar and beyond the notices `holidays` has
    # transcribed: its holidays are computed by rule, with no 调休 days.
    calendar = WorkingCalendar()
    assert not calendar.covers(2031)
    assert calendar.served(2031).source == "holidays"
    with caplog.at_level(logging.WARNING, logger="grievance_flow.deadlines.calendar"):
        week = [calendar.is_working_day(date(2031, 3, day)) for day in range(3, 10)]
        calendar.is_working_day(date(2031, 12, 1))
    assert week == [True, True, True, True, True, False, False]  # Mon 3 March .. Sun 9
    assert not calendar.is_working_day(date(2031, 10, 1))  # National Day, by rule
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2031" in warnings[0].getMessage()
    assert "CALENDAR_OVERRIDES" in warnings[0].getMessage()


def test_beyond_every_published_source_only_weekends_are_off() -> None:
    calendar = WorkingCalendar()
    assert calendar.served(2101).source == "weekends"
    assert calendar.is_working_day(date(2101, 1, 3))  # a Monday, New Year or not
    assert not calendar.is_working_day(date(2101, 1, 1))  # a Saturday
    assert calendar.source_of(date(2101, 1, 3)) == "weekends"


def test_each_year_is_served_by_the_first_source_that_has_it() -> None:
    calendar = WorkingCalendar()
    assert calendar.served(2026).source == "chinese-calendar"
    assert calendar.served(2026).official_workdays
    # chinese-calendar starts in 2004; `holidays` has the 2003 notice, 调休 included.
    assert calendar.served(2003).source == "holidays"
    assert calendar.covers(2003)
    assert calendar.is_working_day(date(2003, 2, 8))  # Saturday worked for Spring Festival
    assert calendar.served(2027).source == "holidays"
    assert calendar.source_of(date(2027, 2, 5)).startswith("holidays ")


def test_an_overrides_year_with_working_days_counts_as_official() -> None:
    # Local extra holidays alone are not the State Council's arrangement; a
    # schedule that names the weekend days worked in lieu is.
    local_only = WorkingCalendar(CalendarOverrides(holidays=frozenset({date(2027, 3, 1)})))
    assert not local_only.covers(2027)
    schedule = CalendarOverrides(
        holidays=frozenset({date(2027, 2, 11)}), workdays=frozenset({date(2027, 2, 20)})
    )
    calendar = WorkingCalendar(schedule)
    assert calendar.covers(2027)
    assert calendar.override_days(2027) == (1, 1)
    assert calendar.source_of(date(2027, 2, 20)) == "overrides"
    assert calendar.sources_between(date(2027, 2, 10), date(2027, 2, 12)) == [
        "overrides",
        calendar.served(2027).label,
    ]


def test_overrides_win_over_official_data_and_fallback() -> None:
    overrides = CalendarOverrides(
        holidays=frozenset({date(2026, 10, 10), date(2031, 3, 3)}),
        workdays=frozenset({date(2026, 10, 18), date(2031, 3, 8)}),
    )
    calendar = WorkingCalendar(overrides)
    assert not calendar.is_working_day(date(2026, 10, 10))
    assert calendar.is_working_day(date(2026, 10, 18))  # a Sunday
    assert not calendar.is_working_day(date(2031, 3, 3))
    assert calendar.is_working_day(date(2031, 3, 8))


def test_nth_working_day_after() -> None:
    calendar = WorkingCalendar()
    assert calendar.nth_working_day_after(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert calendar.nth_working_day_after(date(2026, 9, 30), 3) == date(2026, 10, 10)
    with pytest.raises(ValueError, match="at least 1"):
        calendar.nth_working_day_after(date(2026, 9, 30), 0)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("overrides.yaml", "holidays: [2026-05-06]\nworkdays: ['2026-05-09']\n"),
        ("overrides.json", '{"holidays": ["2026-05-06"], "workdays": ["2026-05-09"]}'),
    ],
)
def test_load_overrides_file(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert load_overrides_file(path) == CalendarOverrides(
        holidays=frozenset({date(2026, 5, 6)}), workdays=frozenset({date(2026, 5, 9)})
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("holidays: [2026-05-06]\nworkdays: [2026-05-06]\n", "listed both as a holiday"),
        ("holidays: [tomorrow]\n", "holidays[0]: must be a date written YYYY-MM-DD"),
        ("holiday: [2026-05-06]\n", "unknown field 'holiday'"),
        ("- 2026-05-06\n", "must be a mapping"),
        ("holidays: [\n", "not valid"),
    ],
)
def test_bad_overrides_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(text, encoding="utf-8")
    pattern = re.escape(f"calendar overrides {path}: ") + ".*" + re.escape(message)
    with pytest.raises(OverridesFileError, match=pattern):
        load_overrides_file(path)


def test_an_empty_overrides_file_overrides_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert load_overrides_file(path) == CalendarOverrides()


def test_merge_lets_the_second_win() -> None:
    may6, may9, may11 = date(2026, 5, 6), date(2026, 5, 9), date(2026, 5, 11)
    catalogue = CalendarOverrides(holidays=frozenset({may6}), workdays=frozenset({may9}))
    operator = CalendarOverrides(holidays=frozenset({may9}), workdays=frozenset({may11}))
    assert merge(catalogue, operator) == CalendarOverrides(
        holidays=frozenset({may6, may9}), workdays=frozenset({may11})
    )


def test_spring_festival_2027_is_not_counted_as_working_days() -> None:
    # chinese-calendar stops at 2026-12-31. Spring Festival 2027 starts on Friday
    # 5 February (除夕); its statutory days (5–8 February) are holidays whatever the
    # State Council's arrangement turns out to be, so three working days after
    # Thursday 4 February cannot end before Thursday 11 February.
    calendar = WorkingCalendar()
    for day in range(5, 9):
        assert not calendar.is_working_day(date(2027, 2, day)), f"2027-02-{day:02d}"
    assert calendar.nth_working_day_after(date(2027, 2, 4), 3) > date(2027, 2, 10)
