"""The deadline activity: SLA class by category, working days on the official calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import ActivityEnvironment

from grievance_flow.activities.deadlines import DeadlineActivities
from grievance_flow.runtime import load_domain
from grievance_flow.workflows.contracts import DeadlineInput, Stage, StageDeadline

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def activities() -> DeadlineActivities:
    domain = load_domain(None)
    return DeadlineActivities(domain.catalogue, domain.calendar)


def compute(activities: DeadlineActivities, request: DeadlineInput) -> StageDeadline:
    result: StageDeadline = ActivityEnvironment().run(activities.compute_deadline, request)
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
