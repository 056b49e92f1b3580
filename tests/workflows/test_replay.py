"""A recorded history replays unchanged when the calendar data changes.

Deadlines come from an activity and are recorded in history; workflow code never
reads the calendar. So a case recorded under one calendar replays, timers and
all, under a worker whose calendar says something else.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from grievance_flow.activities.deadlines import DeadlineActivities
from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data
from grievance_flow.catalogue.model import CalendarOverrides
from grievance_flow.deadlines.calendar import WorkingCalendar
from grievance_flow.runtime import Domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    DeadlineInput,
    Stage,
    WithdrawInput,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.builders import HOTLINE, unit
from tests.workflows.harness import GRID, act, dispatch_to, running_harness


async def test_history_replays_under_a_changed_calendar(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    data, _ = read_catalogue_data(None)
    data = copy.deepcopy(data)
    data["policy"]["escalate_after"] = {"working_days": 1}
    catalogue = parse_catalogue(data, source="test")
    # Recorded under a calendar where the next fortnight is all holidays…
    today = (await time_skipping_env.get_current_time()).date()
    fortnight = frozenset(today + timedelta(days=n) for n in range(0, 15))
    holidays = WorkingCalendar(CalendarOverrides(holidays=fortnight, workdays=frozenset()))
    engine = make_engine(sqlite_url_for(tmp_path))
    migrate(engine)
    async with running_harness(time_skipping_env, Domain(catalogue, holidays), engine) as harness:
        handle = await harness.file()
        await dispatch_to(handle, GRID)
        case = await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
        recorded = case.deadlines[Stage.HANDLE.value]
        await time_skipping_env.sleep(timedelta(hours=30))  # a timer fires and is recorded
        await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))
        await handle.result()
        history = await handle.fetch_history()
    engine.dispose()

    # …while today's official calendar gives another deadline for the same entry.
    official = DeadlineActivities(catalogue, WorkingCalendar())
    fresh = await official.compute_deadline(
        DeadlineInput(
            case_id=case.id,
            stage=Stage.HANDLE,
            started_at=recorded.started_at,
            category=case.category,
        )
    )
    assert fresh.due_at != recorded.due_at

    result = await Replayer(workflows=[GrievanceWorkflow]).replay_workflow(history)
    assert result.replay_failure is None
