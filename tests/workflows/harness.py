"""Drive GrievanceWorkflow on the time-skipping server with the real activities."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from grievance_flow.activities.handover import DELIVERED_HERE_PREFIX
from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data
from grievance_flow.deadlines.calendar import WorkingCalendar
from grievance_flow.runtime import Domain
from grievance_flow.store.notices import list_notices
from grievance_flow.worker import ACTIVITY_THREADS, build_worker
from grievance_flow.workflows.contracts import (
    Action,
    CaseResult,
    CaseView,
    DispatchInput,
    Event,
    EventType,
    Notice,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.builders import DISPATCHER, intake

Handle = WorkflowHandle[GrievanceWorkflow, CaseResult]

# classify 60 s, accept 100 s, handle 200 s, recheck 100 s; warn at 80 %;
# escalate 50 s after the deadline.
SECONDS = {
    "classify": {"seconds": 60},
    "accept": {"seconds": 100},
    "handle": {"seconds": 200},
    "recheck": {"seconds": 100},
    "report_in": {"seconds": 50},
}
SLA_TYPES = {
    EventType.SLA_WARNING,
    EventType.SLA_OVERDUE,
    EventType.CHASED,
    EventType.ESCALATED,
    EventType.SUPERVISED,
}


def seconds_domain(**policy: Any) -> Domain:
    """The bundled catalogue with every SLA class in seconds."""
    data, _ = read_catalogue_data(None)
    data = copy.deepcopy(data)
    for name in data["sla_classes"]:
        data["sla_classes"][name] = dict(SECONDS)
    data["policy"]["escalate_after"] = {"seconds": 50}
    data["policy"].update(policy)
    catalogue = parse_catalogue(data, source="seconds")
    return Domain(catalogue=catalogue, calendar=WorkingCalendar(catalogue.calendar_overrides))


GRID = "grid-1"


class Harness:
    """A worker with the real activities on a fresh task queue, and a read model."""

    def __init__(self, client: Client, task_queue: str, engine: Engine) -> None:
        self.client = client
        self.task_queue = task_queue
        self.engine = engine
        self.filed: list[Handle] = []

    async def file(self, **kwargs: object) -> Handle:
        grievance = intake(**kwargs)  # type: ignore[arg-type]
        handle = await self.client.start_workflow(
            GrievanceWorkflow.run, grievance, id=grievance.case_id, task_queue=self.task_queue
        )
        await handle.execute_update(GrievanceWorkflow.intake)
        self.filed.append(handle)
        return handle

    async def settle(self, *, patience: float = 30.0) -> None:
        """Wait for the notice deliveries the filed cases handed over to finish.

        A delivery outlives its case; left behind on a task queue whose worker
        is gone, its next workflow task would be picked up by nobody.
        """
        for handle in self.filed:
            for delivery in await handed_over(handle):
                if delivery.startswith(DELIVERED_HERE_PREFIX):
                    continue  # no workflow: the hand-over delivered it
                with contextlib.suppress(Exception):  # failed or terminated: gone too
                    await asyncio.wait_for(
                        self.client.get_workflow_handle(delivery).result(), patience
                    )


async def handed_over(handle: Handle) -> list[str]:
    """What each of a case's notice hand-overs answered (recorded as local activity results).

    A delivery workflow's id (``notices-…``), or ``delivered-here:…`` where the
    hand-over delivered the batch itself.
    """
    history = await handle.fetch_history()
    found = []
    for event in history.events:
        if not event.HasField("marker_recorded_event_attributes"):
            continue
        for payloads in event.marker_recorded_event_attributes.details.values():
            for payload in payloads.payloads:
                if payload.data.startswith((b'"notices-', b'"' + DELIVERED_HERE_PREFIX.encode())):
                    found.append(json.loads(payload.data))
    return found


@asynccontextmanager
async def running_harness(
    env: WorkflowEnvironment, domain: Domain, engine: Engine
) -> AsyncIterator[Harness]:
    """A worker on a fresh task queue for the duration of the block."""
    task_queue = f"test-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            env.client, domain=domain, engine=engine, task_queue=task_queue, executor=executor
        )
        async with worker:
            harness = Harness(env.client, task_queue, engine)
            try:
                yield harness
            finally:
                await harness.settle()


async def delivered_notices(
    engine: Engine, *, count: int, patience: float = 10.0, **filters: Any
) -> list[Notice]:
    """The notices matching ``filters`` once at least ``count`` are stored.

    Notices go out in their own delivery workflow, which may still be running
    when the case has closed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        notices, _ = list_notices(engine, limit=500, **filters)
        if len(notices) >= count or loop.time() > deadline:
            return notices
        await asyncio.sleep(0.05)


async def current(handle: Handle) -> CaseView:
    """The live case."""
    return await handle.query(GrievanceWorkflow.case)


async def events(handle: Handle) -> list[Event]:
    """The case's timeline from the workflow."""
    snapshot = await handle.query(GrievanceWorkflow.snapshot)
    return snapshot.events


async def timeline(handle: Handle) -> list[str]:
    snapshot = await handle.query(GrievanceWorkflow.snapshot)
    return [event.type.value for event in snapshot.events]


async def accepted_updates(handle: Handle) -> list[str]:
    history = await handle.fetch_history()
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for event in history.events
        if event.HasField("workflow_execution_update_accepted_event_attributes")
    ]


async def act(handle: Handle, action: Action, command: object) -> CaseView:
    """Send an action the way the API does: the Update named after it."""
    result: CaseView = await handle.execute_update(action.value, command, result_type=CaseView)
    return result


async def dispatch_to(handle: Handle, unit_id: str = GRID) -> CaseView:
    return await act(
        handle,
        Action.DISPATCH,
        DispatchInput(actor=DISPATCHER, category="city.street-vending", unit=unit_id, tier="D"),
    )
