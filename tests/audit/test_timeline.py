"""``rebuild_from_history`` and ``grievance audit show``: the timeline from the history alone.

A case left alone after dispatch on the time-skipping server (a catalogue in
seconds) warns, goes overdue, is chased and escalated to the parent unit, which
then accepts and completes it. Replaying its history must give back exactly the
case and timeline the workflow itself reports, and ``audit show`` must tell an
auditor who did what, when, including every SLA step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from grievance_flow.audit.histories import ForeignHistoryError
from grievance_flow.audit.render import LOCAL_TIME
from grievance_flow.audit.timeline import rebuild_from_history
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    CaseSnapshot,
    CompleteInput,
    CompletionResult,
    EventType,
    RecheckInput,
    Satisfaction,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.audit.conftest import Run, grievance, write_json
from tests.builders import VERIFIER, unit
from tests.workflows.harness import GRID, act, dispatch_to, running_harness, seconds_domain

PARENT = "comm-1"
"""grid-1's parent unit, where an overdue acceptance is escalated to."""


@dataclass
class Recorded:
    """The case as the workflow reported it at its close, and its history."""

    snapshot: CaseSnapshot
    history: WorkflowHistory


@pytest.fixture(scope="module")
async def escalated(
    time_skipping_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Recorded]:
    engine = make_engine(sqlite_url_for(tmp_path_factory.mktemp("timeline")))
    migrate(engine)
    async with running_harness(time_skipping_env, seconds_domain(), engine) as harness:
        handle = await harness.file()
        await dispatch_to(handle, GRID)
        # accept: warn at 80 s, due at 100 s, escalated 50 s later.
        await time_skipping_env.sleep(timedelta(seconds=160))
        await act(handle, Action.ACCEPT, AcceptInput(actor=unit(PARENT), note="街道已签收"))
        await act(
            handle,
            Action.COMPLETE,
            CompleteInput(actor=unit(PARENT), result=CompletionResult.RESOLVED, note="已清理"),
        )
        await act(
            handle,
            Action.RECHECK,
            RecheckInput(
                actor=VERIFIER, passed=True, satisfaction=Satisfaction.BASICALLY_SATISFIED
            ),
        )
        await handle.result()
        snapshot = await handle.query(GrievanceWorkflow.snapshot)
        history = await handle.fetch_history()
    engine.dispose()
    yield Recorded(snapshot, history)


async def test_the_history_alone_gives_the_workflows_own_case_and_timeline(
    escalated: Recorded,
) -> None:
    rebuilt = await rebuild_from_history(escalated.history)

    assert rebuilt is not None
    case, events = rebuilt
    expected = escalated.snapshot.events
    assert [(e.seq, e.type, e.actor) for e in events] == [
        (e.seq, e.type, e.actor) for e in expected
    ]
    # Not just the outline: every field of every event, and the whole case.
    assert events == expected
    assert case == escalated.snapshot.case
    assert {EventType.SLA_WARNING, EventType.ESCALATED} <= {e.type for e in events}


async def test_audit_show_tells_who_did_what_and_when(escalated: Recorded, tmp_path: Path) -> None:
    path = write_json(tmp_path / "case.json", escalated.history.to_json_dict())

    run = await grievance("audit", "show", str(path))

    assert run.code == 0, run.describe()
    case = escalated.snapshot.case
    header = run.out.split("\n\n")[0]
    for fact in (case.id, case.external_id, "closed / closed", "resolved", PARENT, "city."):
        assert fact in header, run.out
    recorded = escalated.snapshot.events
    event_lines = _event_lines(run)
    assert len(event_lines) == len(recorded), run.out
    lines = dict(zip((event.seq for event in recorded), event_lines, strict=True))
    for event in escalated.snapshot.events:
        line = lines[event.seq]
        assert _local(event.at) in line
        assert event.type.value in line
        who = (
            f"{event.actor.role.value}/{event.actor.unit}"
            if event.actor.unit
            else event.actor.role.value
        )
        assert f"  {who}  " in line, line
    by_type = {event.type: lines[event.seq] for event in escalated.snapshot.events}
    warning = next(e for e in escalated.snapshot.events if e.type is EventType.SLA_WARNING)
    due = warning.data["due_at"]
    assert "clock=accept" in by_type[EventType.SLA_WARNING]
    assert f"unit={GRID}" in by_type[EventType.SLA_WARNING]
    assert f"due_at={_local(due)}" in by_type[EventType.SLA_WARNING]
    assert "sla_overdue" in by_type[EventType.SLA_OVERDUE]
    assert f"{GRID} → {PARENT}" in by_type[EventType.ESCALATED]
    assert f"city.street-vending → {GRID}" in by_type[EventType.DISPATCHED]
    assert f"unit/{PARENT}" in by_type[EventType.ACCEPTED]
    assert "passed, basically_satisfied" in by_type[EventType.RECHECKED]


async def test_a_history_cut_before_anything_was_projected_rebuilds_nothing(
    escalated: Recorded,
) -> None:
    # Started, first task scheduled and started: a case whose first task is in flight.
    early = WorkflowHistory(escalated.history.workflow_id, escalated.history.events[:3])
    assert await rebuild_from_history(early) is None


async def test_a_foreign_history_is_refused_before_replay(escalated: Recorded) -> None:
    document = escalated.history.to_json_dict()
    started = document["events"][0]["workflowExecutionStartedEventAttributes"]
    started["workflowType"]["name"] = "SomethingElse"
    with pytest.raises(ForeignHistoryError, match="SomethingElse"):
        await rebuild_from_history(WorkflowHistory.from_json("x", document))


def _event_lines(run: Run) -> list[str]:
    """The timeline's lines, after the header."""
    return run.out.split("times Asia/Shanghai):\n", 1)[1].splitlines()


def _local(moment: datetime | str) -> str:
    """How ``audit show`` prints an instant: Asia/Shanghai, to the second."""
    instant = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return instant.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")
