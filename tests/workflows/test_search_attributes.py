"""The search attributes a case keeps current (SPEC §8), on the time-skipping server.

Each test reads them as Temporal holds them (``describe``), after the case
changed stage, unit, deadline, overdue or supervision; and checks the history:
one upsert per change and never one that changes nothing, no personal data,
and a history that replays under today's code.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from grievance_flow import search_attributes as sa
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    DecideExtensionInput,
    ExtendInput,
    SuperviseInput,
    WithdrawInput,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.builders import DISPATCHER, HOTLINE, intake, unit
from tests.workflows.harness import GRID, Handle, Harness, act, current, dispatch_to

CHANGE_VERSION = "TemporalChangeVersion"
"""The SDK's own attribute: ``workflow.patched()`` upserts the patch ids a case took."""


async def shown(
    client: Client, handle: Handle, name: str, value: object, *, patience: float = 10.0
) -> dict[str, Any]:
    """The case's §8 attributes (see :func:`visible`) once ``name`` has ``value``.

    Returns the last seen if that does not happen within ``patience``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        found = await visible(client, handle.id)
        if found.get(name) == value or loop.time() > deadline:
            return found
        await asyncio.sleep(0.05)


async def visible(client: Client, case_id: str) -> dict[str, Any]:
    """The §8 attributes a case has, by name; unset ones left out.

    Read from the raw answer: the time-skipping server keeps an unset attribute
    as an empty value, which ``handle.describe()`` fails to decode as a Datetime.
    """
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=case_id)
        )
    )
    fields = described.workflow_execution_info.search_attributes
    names = {key.name for key in sa.ALL}
    found: dict[str, Any] = {}
    for name, payload in fields.indexed_fields.items():
        if name in names and payload.data:
            found[name] = json.loads(payload.data)
    if "GrievanceDueAt" in found:
        found["GrievanceDueAt"] = datetime.fromisoformat(found["GrievanceDueAt"])
    return found


def upserts(history: WorkflowHistory) -> list[dict[str, Any]]:
    """Each ``UpsertWorkflowSearchAttributes`` event's fields (None: unset), oldest first."""
    found = []
    for event in history.events:
        if event.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            found.append(
                {
                    name: json.loads(payload.data) if payload.data else None
                    for name, payload in fields.indexed_fields.items()
                    if name != CHANGE_VERSION
                }
            )
    return [fields for fields in found if fields]


def assert_no_needless_upsert(history: WorkflowHistory) -> None:
    """Every upserted field changes the value it had; no upsert is empty."""
    last: dict[str, Any] = {}
    for fields in upserts(history):
        for name, value in fields.items():
            assert last.get(name) != value, (name, value, upserts(history))
            last[name] = value


async def test_a_case_shows_its_stage_unit_deadline_overdue_and_escalation(
    seconds_harness: Harness, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await seconds_harness.file()
    case = await current(handle)
    found = await shown(seconds_harness.client, handle, "GrievanceStage", "classify")
    assert found == {
        "GrievanceStage": "classify",
        "GrievanceChannel": "phone",
        "GrievanceDueAt": case.deadlines["classify"].due_at,
        "GrievanceOverdue": False,
        "GrievanceSupervised": False,
    }

    await dispatch_to(handle, GRID)
    case = await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    found = await shown(seconds_harness.client, handle, "GrievanceStage", "handle")
    assert found == {
        "GrievanceStage": "handle",
        "GrievanceUnit": GRID,
        "GrievanceCategory": "city.street-vending",
        "GrievanceChannel": "phone",
        "GrievanceDueAt": case.deadlines["handle"].due_at,
        "GrievanceOverdue": False,
        "GrievanceSupervised": False,
    }

    await time_skipping_env.sleep(timedelta(seconds=201))  # handle is due at 200 s: 红灯
    found = await shown(seconds_harness.client, handle, "GrievanceOverdue", True)
    assert (found.get("GrievanceStage"), found.get("GrievanceOverdue")) == ("handle", True)

    await time_skipping_env.sleep(timedelta(seconds=50))  # escalated 50 s later: 提级 to comm-1
    found = await shown(seconds_harness.client, handle, "GrievanceUnit", "comm-1")
    case = await current(handle)
    assert found == {
        "GrievanceStage": "accept",
        "GrievanceUnit": "comm-1",
        "GrievanceCategory": "city.street-vending",
        "GrievanceChannel": "phone",
        "GrievanceDueAt": case.deadlines["accept"].due_at,
        "GrievanceOverdue": False,
        "GrievanceSupervised": True,
    }

    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))
    await handle.result()
    found = await shown(seconds_harness.client, handle, "GrievanceStage", "closed")
    # A closed case has no running clock: no deadline, not overdue; it stays
    # findable by its unit and its supervision.
    assert found == {
        "GrievanceStage": "closed",
        "GrievanceUnit": "comm-1",
        "GrievanceCategory": "city.street-vending",
        "GrievanceChannel": "phone",
        "GrievanceOverdue": False,
        "GrievanceSupervised": True,
    }
    history = await handle.fetch_history()
    assert_no_needless_upsert(history)
    # Each stage goes out with its deadline; 红灯 changes only the flag.
    assert [fields.get("GrievanceStage") for fields in upserts(history)] == [
        "classify",
        "accept",
        "handle",
        None,
        "accept",
        "closed",
    ]
    result = await Replayer(workflows=[GrievanceWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None


async def test_supervision_and_an_extension_are_upserted_and_no_personal_data_is(
    seconds_harness: Harness,
) -> None:
    grievance = intake()
    handle = await seconds_harness.file(external_id=grievance.external_id)
    await dispatch_to(handle, GRID)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    await act(handle, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="市长关注"))
    found = await shown(seconds_harness.client, handle, "GrievanceSupervised", True)
    assert found.get("GrievanceSupervised") is True

    before = (await current(handle)).deadlines["handle"].due_at
    await act(handle, Action.EXTEND, ExtendInput(actor=unit(GRID), working_days=3, reason="材料"))
    case = await act(
        handle, Action.DECIDE_EXTENSION, DecideExtensionInput(actor=DISPATCHER, approve=True)
    )
    moved = case.deadlines["handle"].due_at
    assert moved > before
    found = await shown(seconds_harness.client, handle, "GrievanceDueAt", moved)
    assert found.get("GrievanceDueAt") == moved

    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))
    await handle.result()
    history = await handle.fetch_history()
    assert_no_needless_upsert(history)
    names = {name for fields in upserts(history) for name in fields}
    assert names <= {key.name for key in sa.ALL}
    values = json.dumps([fields for fields in upserts(history)], ensure_ascii=False)
    reporter = grievance.reporter
    for personal in (reporter.name, reporter.phone, grievance.location.address, "工地"):
        assert personal and personal not in values, (personal, values)
