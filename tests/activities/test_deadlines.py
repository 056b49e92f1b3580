"""The deadline activity: SLA class by category, working days on the official calendar."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import ActivityEnvironment

from grievance_flow.activities.deadlines import DeadlineActivities
from grievance_flow.runtime import load_domain
from grievance_flow.workflows.contracts import (
    DeadlineInput,
    ExtendDeadlineInput,
    Stage,
    StageDeadline,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def activities() -> DeadlineActivities:
    domain = load_domain(None)
    return DeadlineActivities(domain.catalogue, domain.calendar)


def compute(activities: DeadlineActivities, request: DeadlineInput) -> StageDeadline:
    # The activity is async (pure computation, no thread); these tests are not.
    result: StageDeadline = asyncio.run(
        ActivityEnvironment().run(activities.compute_deadline, request)
    )
    return result


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_handle_clock_across_national_day(activities: DeadlineActivities) -> None:
    # consult: handle within 2 working days. Started 2026-09-30; 1–7 October are
    # holidays, so the days counted are Thu 8 and Fri 9 October.
    started = local(2026, 9, 30, 10, 0)
    clock = compute(
        activities,
        DeadlineInput(
            case_id="c", stage=Stage.HANDLE, started_at=started, category="land.planning"
        ),
    )
    assert clock.sla_class == "consult"
    assert clock.due_at == local(2026, 10, 10, 0, 0)
    assert clock.warn_at == started + (clock.due_at - started) * 0.8
    # One working day after the deadline day: Saturday 10 October is worked in lieu (调休).
    assert clock.escalate_at == local(2026, 10, 11, 0, 0)
    assert clock.due_at.tzinfo is not None and clock.due_at.utcoffset() == UTC.utcoffset(None)


def test_calendar_time_stage_and_default_class(activities: DeadlineActivities) -> None:
    started = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    clock = compute(
        activities, DeadlineInput(case_id="c", stage=Stage.CLASSIFY, started_at=started)
    )
    assert clock.sla_class == "complaint"  # the policy's default for a case with no category
    assert (clock.due_at - started).total_seconds() == 30 * 60


def test_urgent_case_uses_the_urgent_class(activities: DeadlineActivities) -> None:
    started = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    clock = compute(
        activities,
        DeadlineInput(
            case_id="c",
            stage=Stage.HANDLE,
            started_at=started,
            category="city.street-vending",
            urgent=True,
        ),
    )
    assert clock.sla_class == "urgent"
    assert (clock.due_at - started).total_seconds() == 24 * 3600


def test_category_gone_from_the_catalogue_falls_back(activities: DeadlineActivities) -> None:
    started = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    clock = compute(
        activities,
        DeadlineInput(case_id="c", stage=Stage.ACCEPT, started_at=started, category="gone.away"),
    )
    assert clock.sla_class == "complaint"
    assert (clock.due_at - started).total_seconds() == 2 * 3600


def test_overrides_file_and_an_uncovered_year(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 2031 is beyond the bundled calendar: weekends off, a warning logged, and an
    # overrides file (CALENDAR_OVERRIDES) can declare its holidays.
    overrides = tmp_path / "holidays.yaml"
    overrides.write_text("holidays: ['2031-01-06']\nworkdays: ['2031-01-11']\n", "utf-8")
    plain = load_domain(None)
    with_file = load_domain(None, overrides)
    started = local(2031, 1, 3, 9, 0)  # a Friday
    request = DeadlineInput(
        case_id="c", stage=Stage.HANDLE, started_at=started, category="land.planning"
    )
    with caplog.at_level(logging.WARNING):
        fallback = compute(DeadlineActivities(plain.catalogue, plain.calendar), request)
    # Mon 6 and Tue 7 January are the two working days after Friday 3 January.
    assert fallback.due_at == local(2031, 1, 8, 0, 0)
    assert "2031" in caplog.text
    moved = compute(DeadlineActivities(with_file.catalogue, with_file.calendar), request)
    # Monday 6 is a holiday now, so Tue 7 and Wed 8 are counted.
    assert moved.due_at == local(2031, 1, 9, 0, 0)


def test_extension_counts_working_days_from_the_current_deadline(
    activities: DeadlineActivities,
) -> None:
    started = local(2026, 9, 28, 10, 0)
    clock = compute(
        activities,
        DeadlineInput(
            case_id="c", stage=Stage.HANDLE, started_at=started, category="land.planning"
        ),
    )
    assert clock.due_at == local(2026, 10, 1, 0, 0)  # end of Wed 30 September
    moved: StageDeadline = asyncio.run(
        ActivityEnvironment().run(
            activities.extend_deadline,
            ExtendDeadlineInput(case_id="c", deadline=clock, working_days=2),
        )
    )
    # From the end of 30 September: Thu 8 and Fri 9 October (1–7 October are National Day).
    assert moved.due_at == local(2026, 10, 10, 0, 0)
    assert moved.started_at == clock.started_at and moved.sla_class == clock.sla_class


def test_a_clock_into_spring_festival_2027_skips_it_and_says_which_calendar(
    activities: DeadlineActivities,
) -> None:
    # consult: 2 working days. chinese-calendar has no 2027; the `holidays`
    # package's rule-based China calendar knows Spring Festival (5–8 February at
    # least), so the clock cannot run out before the end of 11 February.
    started = local(2027, 2, 4, 10, 0)
    clock = compute(
        activities,
        DeadlineInput(
            case_id="c", stage=Stage.HANDLE, started_at=started, category="land.planning"
        ),
    )
    assert clock.due_at > local(2027, 2, 11, 0, 0)
    # The recorded deadline names the calendar that decided its working days.
    assert clock.calendar_source is not None
    assert clock.calendar_source.startswith("holidays ")


def test_an_extension_into_2027_records_both_calendars(activities: DeadlineActivities) -> None:
    started = local(2026, 12, 28, 10, 0)
    clock = compute(
        activities,
        DeadlineInput(
            case_id="c", stage=Stage.HANDLE, started_at=started, category="land.planning"
        ),
    )
    assert clock.calendar_source is not None
    assert clock.calendar_source.startswith("chinese-calendar ")
    assert "holidays" not in clock.calendar_source
    moved: StageDeadline = asyncio.run(
        ActivityEnvironment().run(
            activities.extend_deadline,
            ExtendDeadlineInput(case_id="c", deadline=clock, working_days=10),
        )
    )
    assert moved.calendar_source is not None
    first, second = moved.calendar_source.split(", ")
    assert first.startswith("chinese-calendar ") and second.startswith("holidays ")


def test_a_calendar_time_clock_names_only_what_its_escalation_counted(
    activities: DeadlineActivities,
) -> None:
    # accept: 2 hours (elapsed time); escalate_after: 1 working day, on the calendar.
    started = local(2026, 11, 20, 9, 0)
    clock = compute(
        activities,
        DeadlineInput(case_id="c", stage=Stage.ACCEPT, started_at=started, category="gone.away"),
    )
    assert clock.calendar_source is not None
    assert clock.calendar_source.startswith("chinese-calendar ")
