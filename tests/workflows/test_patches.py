"""The supervision-notifies-unit patch: old cases replay the old path, new cases take the new one.

督办 used to only flag the case; now it also sends the unit holding the case a
notice. A notice is an activity, i.e. a command the recorded cases never issued
at that point, so the change is taken only behind ``workflow.patched()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    NoticeKind,
    SuperviseInput,
    WithdrawInput,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow
from grievance_flow.workflows.patches import SUPERVISION_NOTIFIES_UNIT
from tests.builders import DISPATCHER, HOTLINE, unit
from tests.histories import load_history, recorded_histories
from tests.workflows.harness import (
    GRID,
    Harness,
    act,
    delivered_notices,
    dispatch_to,
    running_harness,
    seconds_domain,
)


def update_names(history: WorkflowHistory) -> list[str]:
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for event in history.events
        if event.HasField("workflow_execution_update_accepted_event_attributes")
    ]


def patch_markers(history: WorkflowHistory) -> list[str]:
    """The patch ids recorded in ``history``'s markers."""
    found = []
    for event in history.events:
        if not event.HasField("marker_recorded_event_attributes"):
            continue
        for payloads in event.marker_recorded_event_attributes.details.values():
            for payload in payloads.payloads:
                if SUPERVISION_NOTIFIES_UNIT.encode() in payload.data:
                    found.append(SUPERVISION_NOTIFIES_UNIT)
    return found


def supervised_histories() -> list[Path]:
    """Recorded histories in which a dispatcher supervises a case a unit has accepted."""
    chosen = []
    for path in recorded_histories():
        names = update_names(load_history(path))
        if "supervise" in names and "accept" in names[: names.index("supervise")]:
            chosen.append(path)
    return chosen


SUPERVISED = supervised_histories()


async def replay(history: WorkflowHistory) -> Exception | None:
    result = await Replayer(workflows=[GrievanceWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    return result.replay_failure


def test_a_recorded_path_supervises_a_case_a_unit_holds() -> None:
    assert "full-lifecycle.json" in [path.name for path in SUPERVISED]
    for path in SUPERVISED:
        assert patch_markers(load_history(path)) == []  # recorded before the patch


@pytest.mark.parametrize("path", SUPERVISED, ids=[path.name for path in SUPERVISED])
async def test_cases_recorded_before_the_patch_replay_the_old_path(path: Path) -> None:
    assert await replay(load_history(path)) is None


@pytest.mark.parametrize("path", SUPERVISED, ids=[path.name for path in SUPERVISED])
async def test_without_the_guard_they_would_not_replay(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same change unguarded: every case, old or new, takes the new path.
    monkeypatch.setattr(workflow, "patched", lambda patch_id, **_: True)
    failure = await replay(load_history(path))
    assert failure is not None
    assert "Nondeterminism" in str(failure)


@pytest.fixture
async def desk(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    engine = make_engine(sqlite_url_for(tmp_path))
    migrate(engine)
    async with running_harness(time_skipping_env, seconds_domain(), engine) as harness:
        yield harness
    engine.dispose()


async def test_a_new_case_notifies_the_unit_when_supervised(desk: Harness) -> None:
    handle = await desk.file()
    # In classify no unit holds the case: nobody to tell, and no marker either.
    await act(handle, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="尽快派单"))
    await dispatch_to(handle, GRID)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    await act(handle, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="市民多次来电"))
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))
    case_id = (await handle.result()).case_id

    notices = await delivered_notices(desk.engine, count=1, case_id=case_id)
    supervision = [n for n in notices if n.kind is NoticeKind.SUPERVISION]
    assert [(n.recipient_unit, n.data) for n in supervision] == [(GRID, {"note": "市民多次来电"})]
    history = await handle.fetch_history()
    assert patch_markers(history) == [SUPERVISION_NOTIFIES_UNIT]
    assert await replay(history) is None
