"""Shared steps for the audit tests: the CLI in-process, a system.json, cases and tampering."""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from grievance_flow.cli.main import main
from grievance_flow.cli.system import SystemInfo, write_system_file
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    CompleteInput,
    CompletionResult,
    RecheckInput,
    Satisfaction,
)
from tests.builders import VERIFIER, unit
from tests.workflows.harness import GRID, Handle, act, dispatch_to


@dataclass
class Run:
    """What one ``grievance`` command did."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        """Its stdout lines."""
        return self.out.splitlines()

    def describe(self) -> str:
        """Exit code and output, for assertion messages."""
        return f"exit {self.code}\n--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}"


async def grievance(*args: str) -> Run:
    """``grievance ARGS`` in-process, its output captured.

    ``main`` returns (rather than ending the process) when given ``argv``; it
    runs its own event loop, so it gets a thread of its own.
    """

    def run() -> Run:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
        return Run(code, out.getvalue(), err.getvalue())

    return await asyncio.to_thread(run)


def point_at(env: WorkflowEnvironment, data_dir: Path) -> Path:
    """Write ``DATA_DIR/system.json`` naming ``env``'s server, as ``grievance up`` would."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return write_system_file(
        data_dir,
        SystemInfo(
            temporal_address=env.client.service_client.config.target_host,
            namespace=env.client.namespace,
            task_queue="unused",
            api=None,
        ),
    )


async def close_resolved(handle: Handle) -> None:
    """Dispatch, accept, complete and pass the recheck: the case closes resolved."""
    await dispatch_to(handle, GRID)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID), note="已签收"))
    await act(
        handle,
        Action.COMPLETE,
        CompleteInput(actor=unit(GRID), result=CompletionResult.RESOLVED, note="摊贩已劝离"),
    )
    await act(
        handle,
        Action.RECHECK,
        RecheckInput(actor=VERIFIER, passed=True, satisfaction=Satisfaction.SATISFIED),
    )
    await handle.result()


def read_json(path: Path) -> Any:
    """A JSON file's content."""
    return json.loads(path.read_text("utf-8"))


def write_json(path: Path, document: Any) -> Path:
    """Write ``document`` to ``path`` (making its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), "utf-8")
    return path


def alter_update(
    history: dict[str, Any], update: str, change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """A copy of ``history`` with the input of its first ``update`` Update changed."""
    altered = copy.deepcopy(history)
    for event in altered["events"]:
        accepted = event.get("workflowExecutionUpdateAcceptedEventAttributes")
        if accepted and accepted["acceptedRequest"]["input"]["name"] == update:
            payload = accepted["acceptedRequest"]["input"]["args"]["payloads"][0]
            value = json.loads(base64.b64decode(payload["data"]))
            change(value)
            payload["data"] = base64.b64encode(json.dumps(value).encode()).decode()
            return altered
    raise AssertionError(f"no '{update}' update in the history")


def without_first(history: dict[str, Any], event_type: str) -> dict[str, Any]:
    """A copy of ``history`` with its first event of ``event_type`` deleted."""
    altered = copy.deepcopy(history)
    events = altered["events"]
    index = next(i for i, event in enumerate(events) if event["eventType"] == event_type)
    del events[index]
    return altered
