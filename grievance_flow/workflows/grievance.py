"""GrievanceWorkflow: one durable workflow per citizen grievance.

Handlers validate against the transition table and mutate the case file; they
never do I/O. The run loop's two keepers do the side effects: the clock keeper
asks an activity for each entered stage's deadline (calendar data must never be
read in workflow code, so a replay under a newer calendar gives the same
deadlines), and the projector copies new state to the read model.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

# Pure payload and rule modules, loaded once outside the sandbox: the payload
# converter must see the real ``datetime`` class in the dataclass hints, and
# re-importing them per workflow run would only cost time.
with workflow.unsafe.imports_passed_through():
    from grievance_flow.workflows.case_file import CaseFile
    from grievance_flow.workflows.contracts import (
        SYSTEM,
        AcceptInput,
        Action,
        ActivityName,
        Actor,
        CaseResult,
        CaseSnapshot,
        CaseView,
        CompleteInput,
        CompletionResult,
        DeadlineInput,
        DispatchInput,
        EventType,
        FileGrievanceInput,
        Outcome,
        ProgressInput,
        ProjectInput,
        RecheckInput,
        RejectInput,
        ReturnInput,
        Satisfaction,
        Stage,
        StageDeadline,
        SuggestInput,
        Suggestion,
        SuperviseInput,
        WithdrawInput,
    )
    from grievance_flow.workflows.lifecycle import RefusalKind, check

# All three activities (classify, deadline, projection) are short and local to the
# worker, so they run as local activities: their results are still recorded in
# history (replay reads the recorded deadline), but an action costs one workflow
# task instead of one per activity, and the Update answers once the read model
# has it. They are retried until they succeed: a database or calendar hiccup must
# delay a case, never lose it. The cap keeps a long outage from backing off for hours.
_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
_QUICK = timedelta(seconds=10)
_PROJECTION = timedelta(seconds=30)

_OUTCOME_OF = {
    CompletionResult.RESOLVED: Outcome.RESOLVED,
    CompletionResult.EXPLAINED: Outcome.EXPLAINED,
    CompletionResult.UNRESOLVABLE: Outcome.UNRESOLVABLE,
}


def _refuse(kind: RefusalKind, reason: str) -> ApplicationError:
    return ApplicationError(reason, type=kind.value, non_retryable=True)


def _require_text(value: str | None, field: str) -> None:
    if value is None or not value.strip():
        raise _refuse(RefusalKind.INVALID, f"'{field}' must not be blank.")


@workflow.defn
class GrievanceWorkflow:
    """A grievance from report to closed (SPEC §2)."""

    @workflow.init
    def __init__(self, intake: FileGrievanceInput) -> None:
        self._file = CaseFile(intake, workflow.now())
        self._intake_done = False
        self._completion: CompleteInput | None = None
        # Clocked stage entries waiting for their deadline, oldest first.
        self._clock_queue: list[tuple[int, Stage, datetime]] = []
        self._clocked_entry = 0
        self._projected_seq = 0

    # --- run loop -------------------------------------------------------------

    @workflow.run
    async def run(self, intake: FileGrievanceInput) -> CaseResult:
        """Record the report, suggest a category, then drive clocks and projection."""
        file = self._file
        file.record(
            EventType.REPORTED,
            intake.filed_by,
            workflow.now(),
            {
                "external_id": intake.external_id,
                "channel": intake.channel,
                "grid": intake.location.grid,
                "category_hint": intake.category_hint,
                "urgent": intake.urgent or None,
            },
        )
        suggestion = await workflow.execute_local_activity(
            ActivityName.SUGGEST.value,
            SuggestInput(
                description=intake.description,
                grid=intake.location.grid,
                category_hint=intake.category_hint,
            ),
            result_type=Suggestion,
            start_to_close_timeout=_QUICK,
            retry_policy=_RETRY,
        )
        # The hotline may have withdrawn the case while the classifier ran.
        if not file.closed:
            if suggestion.candidates:
                file.case.suggested_category = suggestion.candidates[0].category
            file.record(
                EventType.SUGGESTED,
                SYSTEM,
                workflow.now(),
                {"candidates": [asdict(candidate) for candidate in suggestion.candidates]},
            )
            self._enter(Stage.CLASSIFY)
        self._intake_done = True

        keepers = [asyncio.create_task(self._keep_clocks()), asyncio.create_task(self._project())]
        await workflow.wait_condition(lambda: file.closed and self._settled())
        await workflow.wait_condition(workflow.all_handlers_finished)
        for keeper in keepers:
            keeper.cancel()
        await self._project_once()
        outcome = file.case.outcome or Outcome.WITHDRAWN
        assert file.case.closed_at is not None
        return CaseResult(case_id=file.case.id, outcome=outcome, closed_at=file.case.closed_at)

    def _settled(self) -> bool:
        return not self._clock_queue and self._projected_seq >= self._file.case.last_seq

    async def _keep_clocks(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._clock_queue))
            entry, stage, started_at = self._clock_queue[0]
            deadline = await workflow.execute_local_activity(
                ActivityName.DEADLINE.value,
                DeadlineInput(
                    case_id=self._file.case.id,
                    stage=stage,
                    started_at=started_at,
                    category=self._file.case.category or self._file.case.suggested_category,
                    urgent=self._file.case.urgent,
                ),
                result_type=StageDeadline,
                start_to_close_timeout=_QUICK,
                retry_policy=_RETRY,
            )
            self._file.set_deadline(deadline)
            self._clock_queue.pop(0)
            self._clocked_entry = entry

    async def _project(self) -> None:
        while True:
            await workflow.wait_condition(
                lambda: not self._clock_queue and self._projected_seq < self._file.case.last_seq
            )
            await self._project_once()

    async def _project_once(self) -> None:
        last_seq = self._file.case.last_seq
        if self._projected_seq >= last_seq:
            return
        await workflow.execute_local_activity(
            ActivityName.PROJECT.value,
            ProjectInput(case=self._file.case, events=self._file.events[self._projected_seq :]),
            start_to_close_timeout=_PROJECTION,
            retry_policy=_RETRY,
        )
        self._projected_seq = max(self._projected_seq, last_seq)

    def _enter(self, stage: Stage) -> int | None:
        entry = self._file.enter(stage, workflow.now())
        if entry is not None:
            self._clock_queue.append((entry, stage, workflow.now()))
        return entry

    async def _moved_to(self, stage: Stage) -> CaseView:
        """Enter ``stage`` and answer once its clock is known, so the caller sees it."""
        entry = self._enter(stage)
        if entry is not None:
            await workflow.wait_condition(lambda: self._clocked_entry >= entry)
        return self._file.case

    def _close(self, outcome: Outcome, actor: Actor) -> CaseView:
        self._file.close(outcome, actor, workflow.now())
        return self._file.case

    def _record(self, event_type: EventType, actor: Actor, data: dict[str, Any]) -> None:
        self._file.record(event_type, actor, workflow.now(), data)

    def _check(self, action: Action, actor: Actor) -> None:
        case = self._file.case
        refusal = check(action, stage=case.stage, actor=actor, assigned_unit=case.unit)
        if refusal is not None:
            raise _refuse(refusal.kind, refusal.reason)

    # --- queries --------------------------------------------------------------

    @workflow.query
    def case(self) -> CaseView:
        """The live case."""
        return self._file.case

    @workflow.query
    def snapshot(self) -> CaseSnapshot:
        """The live case and its timeline, oldest first."""
        return CaseSnapshot(case=self._file.case, events=self._file.events)

    # --- intake receipt -------------------------------------------------------

    @workflow.update
    async def intake(self) -> CaseView:
        """Answer once the report is recorded, classified and its clock set.

        Sent together with the start (update-with-start), so the hotline's 201
        already shows the case in classify with its deadline.
        """
        await workflow.wait_condition(lambda: self._intake_done and not self._clock_queue)
        return self._file.case

    # --- actor actions (one Update each; validators consult the table) ---------

    @workflow.update(name=Action.DISPATCH.value)
    async def dispatch(self, cmd: DispatchInput) -> CaseView:
        """Assign category and unit (分类派单)."""
        case = self._file.case
        case.category, case.unit, case.tier = cmd.category, cmd.unit, cmd.tier
        self._record(
            EventType.DISPATCHED,
            cmd.actor,
            {"category": cmd.category, "unit": cmd.unit, "tier": cmd.tier, "note": cmd.note},
        )
        return await self._moved_to(Stage.ACCEPT)

    @dispatch.validator
    def _validate_dispatch(self, cmd: DispatchInput) -> None:
        self._check(Action.DISPATCH, cmd.actor)
        _require_text(cmd.category, "category")
        _require_text(cmd.unit, "unit")

    @workflow.update(name=Action.REJECT.value)
    async def reject(self, cmd: RejectInput) -> CaseView:
        """Reject as invalid or outside the remit; the case closes."""
        self._record(EventType.REJECTED, cmd.actor, {"reason": cmd.reason})
        return self._close(Outcome.REJECTED, cmd.actor)

    @reject.validator
    def _validate_reject(self, cmd: RejectInput) -> None:
        self._check(Action.REJECT, cmd.actor)
        _require_text(cmd.reason, "reason")

    @workflow.update(name=Action.ACCEPT.value)
    async def accept(self, cmd: AcceptInput) -> CaseView:
        """The assigned unit signs for the case (签收)."""
        self._record(EventType.ACCEPTED, cmd.actor, {"unit": cmd.actor.unit, "note": cmd.note})
        return await self._moved_to(Stage.HANDLE)

    @accept.validator
    def _validate_accept(self, cmd: AcceptInput) -> None:
        self._check(Action.ACCEPT, cmd.actor)

    @workflow.update(name=Action.RETURN.value)
    async def return_case(self, cmd: ReturnInput) -> CaseView:
        """The assigned unit returns the case to dispatch (退回)."""
        case = self._file.case
        case.returns += 1
        self._record(
            EventType.RETURNED,
            cmd.actor,
            {"unit": case.unit, "reason": cmd.reason, "returns": case.returns},
        )
        # Back in classify nobody holds the case until a dispatcher assigns it again.
        case.unit, case.tier = None, None
        return await self._moved_to(Stage.CLASSIFY)

    @return_case.validator
    def _validate_return(self, cmd: ReturnInput) -> None:
        self._check(Action.RETURN, cmd.actor)
        _require_text(cmd.reason, "reason")

    @workflow.update(name=Action.PROGRESS.value)
    async def progress(self, cmd: ProgressInput) -> CaseView:
        """The assigned unit reports progress (过程反馈)."""
        self._record(EventType.PROGRESS, cmd.actor, {"note": cmd.note})
        return self._file.case

    @progress.validator
    def _validate_progress(self, cmd: ProgressInput) -> None:
        self._check(Action.PROGRESS, cmd.actor)
        _require_text(cmd.note, "note")

    @workflow.update(name=Action.COMPLETE.value)
    async def complete(self, cmd: CompleteInput) -> CaseView:
        """The assigned unit reports the work done; a verifier checks it next."""
        self._completion = cmd
        self._record(
            EventType.COMPLETED,
            cmd.actor,
            {"result": cmd.result.value, "note": cmd.note, "evidence": cmd.evidence or None},
        )
        return await self._moved_to(Stage.RECHECK)

    @complete.validator
    def _validate_complete(self, cmd: CompleteInput) -> None:
        self._check(Action.COMPLETE, cmd.actor)
        _require_text(cmd.note, "note")

    @workflow.update(name=Action.RECHECK.value)
    async def recheck(self, cmd: RecheckInput) -> CaseView:
        """Verification and callback (核查回访): close, or back to handle (重办)."""
        holds = cmd.passed and cmd.satisfaction is not Satisfaction.UNSATISFIED
        self._record(
            EventType.RECHECKED,
            cmd.actor,
            {
                "passed": cmd.passed,
                "satisfaction": cmd.satisfaction.value,
                "note": cmd.note,
            },
        )
        if holds:
            assert self._completion is not None  # recheck is only reachable via complete
            return self._close(_OUTCOME_OF[self._completion.result], cmd.actor)
        case = self._file.case
        case.reopens += 1
        self._record(EventType.REOPENED, SYSTEM, {"reopens": case.reopens, "unit": case.unit})
        return await self._moved_to(Stage.HANDLE)

    @recheck.validator
    def _validate_recheck(self, cmd: RecheckInput) -> None:
        self._check(Action.RECHECK, cmd.actor)

    @workflow.update(name=Action.SUPERVISE.value)
    async def supervise(self, cmd: SuperviseInput) -> CaseView:
        """The command centre flags the case for supervision (督办)."""
        self._file.case.supervised = True
        self._record(EventType.SUPERVISED, cmd.actor, {"note": cmd.note})
        return self._file.case

    @supervise.validator
    def _validate_supervise(self, cmd: SuperviseInput) -> None:
        self._check(Action.SUPERVISE, cmd.actor)
        _require_text(cmd.note, "note")

    @workflow.update(name=Action.WITHDRAW.value)
    async def withdraw(self, cmd: WithdrawInput) -> CaseView:
        """The hotline withdraws the grievance (撤回); the case closes."""
        self._record(EventType.WITHDRAWN, cmd.actor, {"reason": cmd.reason})
        return self._close(Outcome.WITHDRAWN, cmd.actor)

    @withdraw.validator
    def _validate_withdraw(self, cmd: WithdrawInput) -> None:
        self._check(Action.WITHDRAW, cmd.actor)
        _require_text(cmd.reason, "reason")
