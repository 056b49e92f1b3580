"""The API's one door to Temporal and the read model.

Intake is idempotent on the hotline's ``external_id``: the case id is derived
from it, a second start is refused by Temporal, and the existing case is
answered instead. Reads prefer the live workflow; a case Temporal no longer
holds (past retention) is served from the read model.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from grievance_flow.api.errors import Conflict, NotFound, Unavailable
from grievance_flow.store import queries
from grievance_flow.workflows.contracts import (
    Action,
    CaseView,
    FileGrievanceInput,
    Stage,
    Status,
    TimelinePage,
    TimelineQuery,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow

T = TypeVar("T")


@dataclass
class CasePage:
    """One page of the read model's case list."""

    items: list[CaseView]
    total: int


class CaseGateway:
    """Starts cases, sends them actions, and reads them back."""

    def __init__(
        self, client: Client, engine: Engine, *, task_queue: str, patience: float = 20.0
    ) -> None:
        self._client = client
        self._engine = engine
        self._task_queue = task_queue
        # How long a request waits for a worker before answering 503.
        self._patience = patience

    @property
    def task_queue(self) -> str:
        """The queue cases are started on (``/readyz`` asks whether a worker polls it)."""
        return self._task_queue

    async def file(self, intake: FileGrievanceInput) -> tuple[CaseView, bool]:
        """Start the case's workflow, or find the one already filed.

        Returns:
            The case once its report is recorded and classified, and whether this
            call created it.
        """
        start = WithStartWorkflowOperation(
            GrievanceWorkflow.run,
            intake,
            id=intake.case_id,
            task_queue=self._task_queue,
            # FAIL + REJECT_DUPLICATE: a repeat of an open *or closed* case is
            # answered with the existing case, never a second workflow.
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        try:
            case = await self._confirmed(
                self._client.execute_update_with_start_workflow(
                    GrievanceWorkflow.intake, start_workflow_operation=start
                ),
                f"No worker confirmed the intake of '{intake.case_id}' in time. If Temporal "
                "accepted it, it will proceed; filing again with the same external_id is safe.",
            )
        except WorkflowAlreadyStartedError:
            # The start operation holds the same error for its handle; take it, or
            # asyncio logs "Future exception was never retrieved" for every repeat.
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await start.workflow_handle()
            return await self.case(intake.case_id), False
        return case, True

    async def _confirmed(self, call: Awaitable[T], unconfirmed: str) -> T:
        """Await a call that needs a worker; without one, say so instead of hanging."""
        try:
            return await asyncio.wait_for(call, self._patience)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
            # The update client turns the cancellation by wait_for into its own error.
            raise Unavailable(unconfirmed) from exc

    async def _read(
        self,
        case_id: str,
        live: Callable[[WorkflowHandle[Any, Any]], Awaitable[T]],
        stored: Callable[[], T | None],
    ) -> T:
        """Ask the case's workflow; once Temporal no longer holds it, the read model.

        Args:
            case_id: The case (= workflow id).
            live: The query to run on the workflow's handle.
            stored: The read model's answer (run in a thread), None if it has no such case.

        Raises:
            NotFound: Neither Temporal nor the read model knows the case.
        """
        handle = self._client.get_workflow_handle(case_id)
        try:
            return await self._confirmed(live(handle), f"No worker answered for '{case_id}'.")
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
        found = await asyncio.to_thread(stored)
        if found is None:
            raise NotFound(f"No case '{case_id}'.")
        return found

    async def case(self, case_id: str) -> CaseView:
        """The live case, or the read model's copy once Temporal has let it go."""
        return await self._read(
            case_id,
            lambda handle: handle.query(GrievanceWorkflow.case),
            lambda: queries.get_case(self._engine, case_id),
        )

    async def timeline(self, case_id: str, *, after_seq: int, limit: int) -> TimelinePage:
        """One page of the case's timeline: events after ``after_seq``, oldest first."""
        page = TimelineQuery(after_seq=after_seq, limit=limit)
        return await self._read(
            case_id,
            lambda handle: handle.query(GrievanceWorkflow.timeline, page),
            lambda: queries.case_timeline(self._engine, case_id, after_seq=after_seq, limit=limit),
        )

    async def act(
        self, case_id: str, action: Action, command: Any, *, update_id: str | None = None
    ) -> CaseView:
        """Send ``action`` as a workflow Update; its validator decides before history.

        Args:
            case_id: The case.
            action: What to do.
            command: The Update's input.
            update_id: The client's ``Idempotency-Key``: Temporal applies an update
                id once per workflow and answers a repeat with the first result.
        """
        handle = self._client.get_workflow_handle(case_id)
        # Without the client's key, one of our own: a retry below must be
        # recognised by Temporal as the same update.
        update_id = update_id or f"{action.value}-{uuid.uuid4()}"
        try:
            for attempt in range(1, LOST_UPDATE_ATTEMPTS + 1):
                try:
                    result: CaseView = await self._confirmed(
                        handle.execute_update(
                            action.value, command, id=update_id, result_type=CaseView
                        ),
                        f"No worker confirmed '{action.value}' on '{case_id}' in time; it may "
                        "still be applied, so read the case before trying again.",
                    )
                    break
                except RPCError as exc:
                    if attempt == LOST_UPDATE_ATTEMPTS or not _lost_with_its_task(exc):
                        raise
                    await asyncio.sleep(0.05 * attempt)
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            # Temporal says NOT_FOUND both for an unknown id and for a workflow
            # that has already completed; only the first is a 404.
            case = await self.case(case_id)
            if case.status is Status.CLOSED:
                raise Conflict(
                    f"'{action.value}' is not allowed: the case is {Stage.CLOSED.value} "
                    f"({case.outcome.value if case.outcome else 'no outcome'})."
                ) from exc
            raise
        return result

    async def list(
        self,
        *,
        stage: Stage | None,
        unit: str | None,
        involving: str | None,
        category: str | None,
        overdue: bool | None,
        now: datetime,
        limit: int,
        offset: int,
        caller: str | None = None,
    ) -> CasePage:
        """A page of the read model, newest first."""
        items, total = await asyncio.to_thread(
            lambda: queries.list_cases(
                self._engine,
                stage=stage,
                unit=unit,
                involving=involving,
                category=category,
                overdue=overdue,
                caller=caller,
                now=now,
                limit=limit,
                offset=offset,
            )
        )
        return CasePage(items=items, total=total)


LOST_UPDATE_ATTEMPTS = 3
"""Tries of an update whose workflow task the server threw away (see ``_lost_with_its_task``)."""


def _lost_with_its_task(exc: RPCError) -> bool:
    """Whether Temporal dropped the update because the task carrying it failed.

    The usual cause is harmless: the update closed the case in the same task
    in which a signal arrived (a merged duplicate telling its target), so the
    server refused the completion ("UnhandledCommand") and with it the update,
    which was never applied. Sent again under the same update id, it runs in
    the next task, after the signal.
    """
    return (
        exc.status is RPCStatusCode.FAILED_PRECONDITION and "workflow task failure" in exc.message
    )
