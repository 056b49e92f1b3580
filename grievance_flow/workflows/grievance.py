"""GrievanceWorkflow: one durable workflow per citizen grievance.

Handlers validate against the transition table and mutate the case file; they
never do I/O. The keepers (:mod:`grievance_flow.workflows.keepers`) do the side
effects: deadlines from an activity (calendar data is never read in workflow
code, so a replay under a newer calendar gives the same deadlines), the SLA
clocks, notices, and the projection to the read model.
"""

from __future__ import annotations

from dataclasses import asdict

from temporalio import workflow
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
        ArbitrateInput,
        CasePolicy,
        CaseResult,
        CaseSnapshot,
        CaseView,
        CompleteInput,
        CompletionResult,
        DecideExtensionInput,
        DispatchInput,
        DuplicateMerged,
        EventType,
        ExtendDeadlineInput,
        ExtendInput,
        ExtensionRequest,
        FileGrievanceInput,
        MergeInput,
        NoticeKind,
        Outcome,
        ProgressInput,
        RecheckInput,
        RejectInput,
        ReportInInput,
        ReturnInput,
        Satisfaction,
        Stage,
        StageDeadline,
        SuggestInput,
        Suggestion,
        SuperviseInput,
        WhistleInput,
        WithdrawInput,
    )
    from grievance_flow.workflows.keepers import QUICK, RETRY, CaseKeepers
    from grievance_flow.workflows.lifecycle import (
        Refusal,
        RefusalKind,
        check,
        check_arbitrate,
        check_dispatch,
        check_extension_decision,
        check_extension_request,
        check_report_in,
        check_return,
        check_whistle,
    )
    from grievance_flow.workflows.sla import REPORT_IN, carry_over

_OUTCOME_OF = {
    CompletionResult.RESOLVED: Outcome.RESOLVED,
    CompletionResult.EXPLAINED: Outcome.EXPLAINED,
    CompletionResult.UNRESOLVABLE: Outcome.UNRESOLVABLE,
}


def _refuse(kind: RefusalKind, reason: str) -> ApplicationError:
    return ApplicationError(reason, type=kind.value, non_retryable=True)


def _raise(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise _refuse(refusal.kind, refusal.reason)


def _require_text(value: str | None, field: str) -> None:
    if value is None or not value.strip():
        raise _refuse(RefusalKind.INVALID, f"'{field}' must not be blank.")


@workflow.defn
class GrievanceWorkflow(CaseKeepers):
    """A grievance from report to closed (SPEC §2)."""

    @workflow.init
    def __init__(self, intake: FileGrievanceInput) -> None:
        super().__init__(CaseFile(intake, workflow.now()))
        self._intake_done = False
        self._completion: CompleteInput | None = None
        # Replaced by the catalogue's policy recorded with the suggestion at intake.
        self._policy = CasePolicy()

    @workflow.run
    async def run(self, intake: FileGrievanceInput) -> CaseResult:
        """Record the report, suggest a category, then keep clocks, notices and projection."""
        file = self._file
        self._record(
            EventType.REPORTED,
            intake.filed_by,
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
                case_id=intake.case_id,
                filed_at=file.case.created_at,
            ),
            result_type=Suggestion,
            start_to_close_timeout=QUICK,
            retry_policy=RETRY,
        )
        self._policy = suggestion.policy
        # The hotline may have withdrawn the case while the classifier ran.
        if not file.closed:
            self._triage(suggestion)
        self._intake_done = True

        keepers = self._start_keepers()
        await workflow.wait_condition(lambda: file.closed and self._settled())
        await workflow.wait_condition(workflow.all_handlers_finished)
        for keeper in keepers:
            keeper.cancel()
        await self._project_once()
        outcome = file.case.outcome or Outcome.WITHDRAWN
        assert file.case.closed_at is not None
        return CaseResult(case_id=file.case.id, outcome=outcome, closed_at=file.case.closed_at)

    def _triage(self, suggestion: Suggestion) -> None:
        """Record the suggestion; dispatch it at once when confident and allowed (自动派单)."""
        case = self._file.case
        top = suggestion.candidates[0] if suggestion.candidates else None
        if top is not None:
            case.suggested_category = top.category
        self._record(
            EventType.SUGGESTED,
            SYSTEM,
            {
                "candidates": [asdict(candidate) for candidate in suggestion.candidates],
                "possible_duplicates": suggestion.possible_duplicates or None,
            },
        )
        confident = (
            top is not None
            and top.auto_dispatch
            and top.unit is not None
            and top.score >= self._policy.auto_dispatch_confidence
        )
        if not confident or top is None or top.unit is None:
            self._enter(Stage.CLASSIFY)
            return
        case.category, case.unit, case.tier = top.category, top.unit, top.tier
        self._record(
            EventType.DISPATCHED,
            SYSTEM,
            {
                "category": top.category,
                "unit": top.unit,
                "tier": top.tier,
                "auto": True,
                "score": top.score,
            },
        )
        self._enter(Stage.ACCEPT)

    def _check(self, action: Action, actor: Actor) -> None:
        case = self._file.case
        _raise(
            check(
                action,
                stage=case.stage,
                actor=actor,
                assigned_unit=case.unit,
                summoned=case.co_units,
            )
        )

    def _on_time(self, stage: Stage) -> bool | None:
        deadline = self._file.case.deadlines.get(stage.value)
        return None if deadline is None else workflow.now() <= deadline.due_at

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
        case.arbitrated = False
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
        case = self._file.case
        _raise(check_dispatch(returns=case.returns, max_returns=self._policy.max_returns))

    @workflow.update(name=Action.ARBITRATE.value)
    async def arbitrate(self, cmd: ArbitrateInput) -> CaseView:
        """Force the case onto a unit after too many returns (裁定); it may not be returned."""
        case = self._file.case
        case.unit, case.tier, case.arbitrated = cmd.unit, cmd.tier, True
        case.category = case.category or case.suggested_category
        self._record(
            EventType.ARBITRATED,
            cmd.actor,
            {"unit": cmd.unit, "tier": cmd.tier, "category": case.category, "note": cmd.note},
        )
        return await self._moved_to(Stage.ACCEPT)

    @arbitrate.validator
    def _validate_arbitrate(self, cmd: ArbitrateInput) -> None:
        self._check(Action.ARBITRATE, cmd.actor)
        _require_text(cmd.unit, "unit")
        case = self._file.case
        _raise(check_arbitrate(returns=case.returns, max_returns=self._policy.max_returns))

    @workflow.update(name=Action.MERGE.value)
    async def merge(self, cmd: MergeInput) -> CaseView:
        """Close this case as a duplicate of ``into`` (并单); the target is told by signal."""
        case = self._file.case
        now = workflow.now()
        await workflow.get_external_workflow_handle(cmd.into).signal(
            GrievanceWorkflow.duplicate_merged,
            DuplicateMerged(case_id=case.id, external_id=case.external_id, merged_at=now),
        )
        case.merged_into = cmd.into
        self._record(EventType.MERGED, cmd.actor, {"into": cmd.into})
        return self._close(Outcome.MERGED, cmd.actor)

    @merge.validator
    def _validate_merge(self, cmd: MergeInput) -> None:
        self._check(Action.MERGE, cmd.actor)
        _require_text(cmd.into, "into")
        if cmd.into == self._file.case.id:
            raise _refuse(RefusalKind.INVALID, "A case cannot be merged into itself.")

    @workflow.signal
    def duplicate_merged(self, duplicate: DuplicateMerged) -> None:
        """A duplicate was merged into this case: list it, to answer its reporter at close."""
        case = self._file.case
        if duplicate.case_id in case.merged_cases:
            return  # a re-delivered signal
        case.merged_cases.append(duplicate.case_id)
        self._record(
            EventType.MERGED,
            SYSTEM,
            {"duplicate": duplicate.case_id, "duplicates": list(case.merged_cases)},
        )

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
        self._file.case.accepted_on_time = self._on_time(Stage.ACCEPT)
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
        _raise(check_return(arbitrated=self._file.case.arbitrated))

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
        self._file.case.completed_on_time = self._on_time(Stage.HANDLE)
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
        if case.reopens >= self._policy.max_reopens:
            # 重办 has its limit: the case closes unresolved, under supervision.
            case.supervised = True
            self._record(
                EventType.SUPERVISED,
                SYSTEM,
                {"note": f"failed recheck after {case.reopens} reopenings: closed unresolved"},
            )
            return self._close(Outcome.UNRESOLVED, cmd.actor)
        case.reopens += 1
        self._record(EventType.REOPENED, SYSTEM, {"reopens": case.reopens, "unit": case.unit})
        return await self._moved_to(Stage.HANDLE)

    @recheck.validator
    def _validate_recheck(self, cmd: RecheckInput) -> None:
        self._check(Action.RECHECK, cmd.actor)

    @workflow.update(name=Action.WHISTLE.value)
    async def whistle(self, cmd: WhistleInput) -> CaseView:
        """The lead unit summons other units (吹哨); each gets a report-in clock (报到)."""
        case = self._file.case
        case.co_units.extend(cmd.units)
        seq = self._record(
            EventType.WHISTLED, cmd.actor, {"units": list(cmd.units), "reason": cmd.reason}
        )
        tickets = []
        for summoned in cmd.units:
            self._notify(
                seq,
                NoticeKind.SUMMONS,
                summoned,
                f"吹哨: {case.unit} summons you to case {case.id} ({cmd.reason}); report in.",
                {"lead": case.unit, "reason": cmd.reason},
                suffix=summoned,
            )
            tickets.append(self._request_clock(Stage.HANDLE, entry=None, summoned=summoned))
        return await self._clocks_known(max(tickets))

    @whistle.validator
    def _validate_whistle(self, cmd: WhistleInput) -> None:
        self._check(Action.WHISTLE, cmd.actor)
        _require_text(cmd.reason, "reason")
        case = self._file.case
        _raise(check_whistle(units=cmd.units, lead=case.unit, summoned=case.co_units))

    @workflow.update(name=Action.REPORT_IN.value)
    async def report_in(self, cmd: ReportInInput) -> CaseView:
        """A summoned unit reports in (报到); its clock stops."""
        case = self._file.case
        summoned = cmd.actor.unit
        assert summoned is not None  # the table admits only summoned units
        case.reported_in.append(summoned)
        clock = f"{REPORT_IN}:{summoned}"
        deadline = case.deadlines.get(clock)
        on_time = None if deadline is None else workflow.now() <= deadline.due_at
        self._stop_clock(clock)
        self._record(
            EventType.REPORTED_IN,
            cmd.actor,
            {"unit": summoned, "note": cmd.note, "on_time": on_time},
        )
        return case

    @report_in.validator
    def _validate_report_in(self, cmd: ReportInInput) -> None:
        self._check(Action.REPORT_IN, cmd.actor)
        assert cmd.actor.unit is not None
        _raise(check_report_in(unit=cmd.actor.unit, reported=self._file.case.reported_in))

    @workflow.update(name=Action.EXTEND.value)
    async def extend(self, cmd: ExtendInput) -> CaseView:
        """The assigned unit asks for more working days (延期申请)."""
        case = self._file.case
        assert cmd.actor.unit is not None  # the table admits only the assigned unit
        case.extension = ExtensionRequest(
            unit=cmd.actor.unit,
            working_days=cmd.working_days,
            reason=cmd.reason,
            requested_at=workflow.now(),
        )
        self._record(
            EventType.EXTENSION_REQUESTED,
            cmd.actor,
            {"working_days": cmd.working_days, "reason": cmd.reason},
        )
        return case

    @extend.validator
    def _validate_extend(self, cmd: ExtendInput) -> None:
        self._check(Action.EXTEND, cmd.actor)
        _require_text(cmd.reason, "reason")
        case = self._file.case
        handle = case.deadlines.get(Stage.HANDLE.value)
        _raise(
            check_extension_request(
                now=workflow.now(),
                handle_due_at=handle.due_at if handle else None,
                pending=case.extension is not None,
                working_days=cmd.working_days,
            )
        )

    @workflow.update(name=Action.DECIDE_EXTENSION.value)
    async def decide_extension(self, cmd: DecideExtensionInput) -> CaseView:
        """The command centre approves or denies the pending request (延期审批)."""
        case = self._file.case
        request = case.extension
        assert request is not None  # the validator requires a pending request
        case.extension = None
        data: dict[str, object] = {
            "approved": cmd.approve,
            "working_days": request.working_days,
            "note": cmd.note,
        }
        current = case.deadlines.get(Stage.HANDLE.value)
        if cmd.approve and current is not None:
            moved = await workflow.execute_local_activity(
                ActivityName.EXTEND_DEADLINE.value,
                ExtendDeadlineInput(
                    case_id=case.id, deadline=current, working_days=request.working_days
                ),
                result_type=StageDeadline,
                start_to_close_timeout=QUICK,
                retry_policy=RETRY,
            )
            data |= {
                "previous_due_at": current.due_at.isoformat(),
                "due_at": moved.due_at.isoformat(),
            }
            if case.stage is Stage.HANDLE and case.deadlines.get(Stage.HANDLE.value) is current:
                self._move_clock(moved)
        seq = self._record(EventType.EXTENSION_DECIDED, cmd.actor, data)
        verdict = "approved" if cmd.approve else "denied"
        due = f"; handle by {data['due_at']}" if "due_at" in data else ""
        self._notify(
            seq,
            NoticeKind.EXTENSION_DECISION,
            request.unit,
            f"延期{verdict}: your request for {request.working_days} working days on case "
            f"{case.id} was {verdict}{due}.",
            {key: value for key, value in data.items() if value is not None},
        )
        return case

    @decide_extension.validator
    def _validate_decide_extension(self, cmd: DecideExtensionInput) -> None:
        self._check(Action.DECIDE_EXTENSION, cmd.actor)
        _raise(check_extension_decision(pending=self._file.case.extension is not None))

    def _move_clock(self, deadline: StageDeadline) -> None:
        self._file.set_deadline(deadline)
        moved = carry_over(self._clocks.get(deadline.stage.value), deadline, workflow.now())
        if moved is not None:
            self._start_clock(moved)

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
