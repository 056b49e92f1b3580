"""SLA clocks on the time-skipping server: warning → overdue + chase → escalation.

The catalogue's SLA class is set in seconds, so each step's due time is known
exactly and the test server skips straight to it.
"""

from __future__ import annotations

import copy
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data
from grievance_flow.catalogue.model import CalendarOverrides
from grievance_flow.deadlines.calendar import WorkingCalendar
from grievance_flow.runtime import Domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    CompleteInput,
    CompletionResult,
    DecideExtensionInput,
    Event,
    EventType,
    ExtendInput,
    ProgressInput,
    RecheckInput,
    Satisfaction,
    Stage,
    WithdrawInput,
)
from tests.builders import DISPATCHER, HOTLINE, VERIFIER, unit
from tests.workflows.harness import (
    GRID,
    SECONDS,
    SLA_TYPES,
    Handle,
    Harness,
    act,
    current,
    dispatch_to,
    events,
    running_harness,
)


def sla_events(timeline: list[Event]) -> list[tuple[str, str | None]]:
    """(type, clock) of every SLA event, in order."""
    return [(e.type.value, e.data.get("clock")) for e in timeline if e.type in SLA_TYPES]


async def skip(env: WorkflowEnvironment, seconds: float) -> None:
    await env.sleep(timedelta(seconds=seconds))


async def test_classify_clock_warns_chases_and_escalates_to_the_command_centre(
    seconds_harness: Harness, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await seconds_harness.file()
    await skip(time_skipping_env, 49)  # warn at 48 s
    assert sla_events(await events(handle)) == [("sla_warning", "classify")]
    await skip(time_skipping_env, 12)  # due at 60 s
    assert sla_events(await events(handle))[1:] == [
        ("sla_overdue", "classify"),
        ("chased", "classify"),
    ]
    await skip(time_skipping_env, 50)  # escalate at 110 s
    timeline = await events(handle)
    assert sla_events(timeline)[3:] == [("escalated", "classify"), ("supervised", "classify")]
    escalated = next(e for e in timeline if e.type is EventType.ESCALATED)
    assert escalated.data["to"] == "command-centre"
    chased = next(e for e in timeline if e.type is EventType.CHASED)
    assert chased.data["recipient"] == "command-centre"
    case = await current(handle)
    assert case.supervised and case.escalations == 1 and case.stage is Stage.CLASSIFY
    assert case.overdue_stages == ["classify"]
    # Each step fired on time: the event's time is its planned time (± the skip granularity).
    deadline = case.deadlines["classify"]
    for event, planned in [
        (timeline[-5], deadline.warn_at),
        (timeline[-4], deadline.due_at),
        (timeline[-2], deadline.escalate_at),
    ]:
        assert abs((event.at - planned).total_seconds()) < 1, (event.type, event.at, planned)
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_accept_clock_escalates_tier_by_tier_up_to_a(
    seconds_harness: Harness, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await seconds_harness.file()
    await dispatch_to(handle, GRID)
    # grid-1 (D) → comm-1 (C) → street-1 (B) → district (A) → command centre.
    expected = [("comm-1", "C"), ("street-1", "B"), ("district", "A")]
    for parent, tier in expected:
        await skip(time_skipping_env, 151)  # due 100 s + escalate 50 s
        case = await current(handle)
        assert (case.unit, case.tier, case.stage) == (parent, tier, Stage.ACCEPT)
    await skip(time_skipping_env, 151)
    case = await current(handle)
    assert case.unit == "district" and case.escalations == 4 and case.supervised
    escalations = [e.data for e in await events(handle) if e.type is EventType.ESCALATED]
    assert [(d["from"], d["to"]) for d in escalations] == [
        ("grid-1", "comm-1"),
        ("comm-1", "street-1"),
        ("street-1", "district"),
        ("district", "command-centre"),
    ]
    # The units the case left may no longer act on it.
    for old in ("grid-1", "comm-1", "street-1"):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(handle, Action.ACCEPT, AcceptInput(actor=unit(old)))
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "Forbidden"
    case = await act(handle, Action.ACCEPT, AcceptInput(actor=unit("district")))
    assert case.stage is Stage.HANDLE and case.accepted_on_time is False
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_handle_clock_moves_the_case_to_the_parent_who_must_accept_afresh(
    seconds_harness: Harness, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await seconds_harness.file()
    await dispatch_to(handle, GRID)
    case = await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    assert case.accepted_on_time is True
    await skip(time_skipping_env, 161)  # warn at 160 s
    await act(handle, Action.PROGRESS, ProgressInput(actor=unit(GRID), note="处理中"))
    await skip(time_skipping_env, 40)  # due at 200 s
    await skip(time_skipping_env, 51)  # escalate at 250 s
    timeline = await events(handle)
    assert sla_events(timeline) == [
        ("sla_warning", "handle"),
        ("sla_overdue", "handle"),
        ("chased", "handle"),
        ("escalated", "handle"),
        ("supervised", "handle"),
    ]
    chased = next(e for e in timeline if e.type is EventType.CHASED)
    assert chased.data["recipient"] == GRID
    case = await current(handle)
    assert (case.stage, case.unit) == (Stage.ACCEPT, "comm-1")
    with pytest.raises(WorkflowUpdateFailedError):
        await act(handle, Action.PROGRESS, ProgressInput(actor=unit(GRID), note="还在办"))
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit("comm-1")))
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_recheck_clock_goes_to_the_command_centre(
    seconds_harness: Harness, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await seconds_harness.file()
    await dispatch_to(handle, GRID)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    done = CompleteInput(actor=unit(GRID), result=CompletionResult.RESOLVED, note="已处理")
    case = await act(handle, Action.COMPLETE, done)
    assert case.completed_on_time is True
    await skip(time_skipping_env, 151)
    assert sla_events(await events(handle)) == [
        ("sla_warning", "recheck"),
        ("sla_overdue", "recheck"),
        ("chased", "recheck"),
        ("escalated", "recheck"),
        ("supervised", "recheck"),
    ]
    await act(
        handle,
        Action.RECHECK,
        RecheckInput(actor=VERIFIER, passed=True, satisfaction=Satisfaction.SATISFIED),
    )
    assert (await handle.result()).outcome.value == "resolved"


async def pending_timers(handle: Handle) -> int:
    """Timers started and neither fired nor cancelled."""
    started: set[int] = set()
    for event in (await handle.fetch_history()).events:
        if event.HasField("timer_started_event_attributes"):
            started.add(event.event_id)
        elif event.HasField("timer_fired_event_attributes"):
            started.discard(event.timer_fired_event_attributes.started_event_id)
        elif event.HasField("timer_canceled_event_attributes"):
            started.discard(event.timer_canceled_event_attributes.started_event_id)
    return len(started)


async def test_stages_done_in_time_leave_no_sla_events_and_no_timers(
    seconds_harness: Harness, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await seconds_harness.file()
    await skip(time_skipping_env, 30)
    await dispatch_to(handle, GRID)
    await skip(time_skipping_env, 50)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    assert await pending_timers(handle) == 1  # only the handle clock's
    await skip(time_skipping_env, 100)
    done = CompleteInput(actor=unit(GRID), result=CompletionResult.RESOLVED, note="已处理")
    await act(handle, Action.COMPLETE, done)
    await skip(time_skipping_env, 30)
    await act(
        handle,
        Action.RECHECK,
        RecheckInput(actor=VERIFIER, passed=True, satisfaction=Satisfaction.SATISFIED),
    )
    await handle.result()
    assert sla_events(await events(handle)) == []
    assert await pending_timers(handle) == 0
    case = await current(handle)
    assert case.accepted_on_time is True and case.completed_on_time is True
    assert case.overdue_stages == []


async def test_extension_approved_moves_the_deadline_and_denied_is_recorded(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # Handle within 3 working days, extensions in working days: a real calendar,
    # with every day of the coming weeks a working day so the arithmetic is plain.
    data, _ = read_catalogue_data(None)
    data = copy.deepcopy(data)
    for name in data["sla_classes"]:
        data["sla_classes"][name] = dict(SECONDS) | {"handle": {"working_days": 3}}
    data["policy"]["escalate_after"] = {"working_days": 1}
    catalogue = parse_catalogue(data, source="working-days")
    # The test server's clock is shared by the session and may be far ahead.
    today = (await time_skipping_env.get_current_time()).date()
    every_day = frozenset(today + timedelta(days=n) for n in range(-2, 60))
    domain = Domain(catalogue, WorkingCalendar(CalendarOverrides(frozenset(), every_day)))
    engine = make_engine(sqlite_url_for(tmp_path))
    migrate(engine)
    async with running_harness(time_skipping_env, domain, engine) as harness:
        handle = await harness.file()
        await dispatch_to(handle, GRID)
        case = await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
        first_due = case.deadlines["handle"].due_at

        ask = ExtendInput(actor=unit(GRID), working_days=2, reason="需协调多个部门")
        case = await act(handle, Action.EXTEND, ask)
        assert case.extension is not None and case.extension.working_days == 2
        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await act(handle, Action.EXTEND, ask)
        assert isinstance(twice.value.cause, ApplicationError)
        assert twice.value.cause.type == "Conflict"

        case = await act(
            handle,
            Action.DECIDE_EXTENSION,
            DecideExtensionInput(actor=DISPATCHER, approve=True, note="同意"),
        )
        assert case.extension is None
        assert case.deadlines["handle"].due_at == first_due + timedelta(days=2)
        with pytest.raises(WorkflowUpdateFailedError) as nothing_pending:
            await act(
                handle,
                Action.DECIDE_EXTENSION,
                DecideExtensionInput(actor=DISPATCHER, approve=True),
            )
        assert isinstance(nothing_pending.value.cause, ApplicationError)
        assert nothing_pending.value.cause.type == "Conflict"

        more = ExtendInput(actor=unit(GRID), working_days=5, reason="再延")
        await act(handle, Action.EXTEND, more)
        case = await act(
            handle,
            Action.DECIDE_EXTENSION,
            DecideExtensionInput(actor=DISPATCHER, approve=False, note="不予延期"),
        )
        assert case.deadlines["handle"].due_at == first_due + timedelta(days=2)
        decisions = [e.data for e in await events(handle) if e.type is EventType.EXTENSION_DECIDED]
        assert [d["approved"] for d in decisions] == [True, False]
        assert decisions[1]["note"] == "不予延期"

        # Past the (extended) deadline a request is refused with the reason.
        await time_skipping_env.sleep(case.deadlines["handle"].due_at - case.updated_at)
        with pytest.raises(WorkflowUpdateFailedError) as late:
            await act(handle, Action.EXTEND, ask)
        assert isinstance(late.value.cause, ApplicationError)
        assert late.value.cause.type == "Conflict"
        assert "before the deadline" in late.value.cause.message
        await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))
    engine.dispose()


async def test_working_day_clock_waits_out_a_holiday_block(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # Accept within 1 working day; the next five days are declared holidays
    # (calendar_overrides), so the clock runs through them and goes red only at
    # the end of the first working day after them.
    data, _ = read_catalogue_data(None)
    data = copy.deepcopy(data)
    for name in data["sla_classes"]:
        data["sla_classes"][name] = dict(SECONDS) | {"accept": {"working_days": 1}}
    data["policy"]["escalate_after"] = {"working_days": 1}
    catalogue = parse_catalogue(data, source="holidays")
    zone = catalogue.timezone_info
    # The test server's clock is shared by the session and may be far ahead.
    now = (await time_skipping_env.get_current_time()).astimezone(zone)
    holidays = frozenset(now.date() + timedelta(days=n) for n in range(1, 6))
    workdays = frozenset(now.date() + timedelta(days=n) for n in range(6, 12))
    calendar = WorkingCalendar(CalendarOverrides(holidays=holidays, workdays=workdays))
    engine = make_engine(sqlite_url_for(tmp_path))
    migrate(engine)
    async with running_harness(time_skipping_env, Domain(catalogue, calendar), engine) as harness:
        handle = await harness.file()
        case = await dispatch_to(handle, GRID)
        due = case.deadlines["accept"].due_at
        first_working_day = now.date() + timedelta(days=6)
        assert due.astimezone(zone) == datetime.combine(
            first_working_day + timedelta(days=1), time(0), tzinfo=zone
        )
        # Through the holidays: yellow at most, never red.
        await time_skipping_env.sleep(due - case.updated_at - timedelta(minutes=5))
        assert EventType.SLA_OVERDUE not in {e.type for e in await events(handle)}
        await time_skipping_env.sleep(timedelta(minutes=10))
        overdue = [e for e in await events(handle) if e.type is EventType.SLA_OVERDUE]
        assert len(overdue) == 1 and abs((overdue[0].at - due).total_seconds()) < 1
        await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))
    engine.dispose()
