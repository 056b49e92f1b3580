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

# Pure payload and rule modules, loaded once outside the sandbox: the payload
# converter must see the real ``datetime`` class in the dataclass hints, and
# re-importing them per workflow run would only cost time.
with workflow.unsafe.imports_passed_through():
    from grievance_flow.workflows.case_file import CaseFile
    from grievance_flow.workflows.collaboration import CollaborationHandlers
    from grievance_flow.workflows.contracts import (
        SYSTEM,
        TIMELINE_PAGE_MAX,
        AcceptInput,
        Action,
        ActivityName,
        CasePolicy,
        CaseResult,
        CaseSnapshot,
        CaseView,
        CompleteInput,
        CompletionResult,
        DispatchInput,
        EventType,
        FileGrievanceInput,
        NoticeKind,
        Outcome,
        ProgressInput,
        RecheckInput,
        RejectInput,
        ReturnInput,
        Satisfaction,
        Stage,
        SuggestInput,
        Suggestion,
        SuperviseInput,
        SupplementInput,
        TimelinePage,
        TimelineQuery,
        WithdrawInput,
    )
    from grievance_flow.workflows.lifecycle import (
        check_dispatch,
        check_return,
        next_stage,
    )
    from grievance_flow.workflows.patches import SUPERVISION_NOTIFIES_UNIT
    from grievance_flow.workflows.refusals import raise_refusal, require_text

_OUTCOME_OF = {
    CompletionResult.RESOLVED: Outcome.RESOLVED,
    CompletionResult.EXPLAINED: Outcome.EXPLAINED,
    CompletionResult.UNRESOLVABLE: Outcome.UNRESOLVABLE,
}


@workflow.defn
class GrievanceWorkflow(CollaborationHandlers):
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
                # Left out when empty (None is dropped), so a citizen's case
                # records exactly the event it recorded before related cases.
                "related_cases": list(intake.related_cases) or None,
            },
        )
        self._choose_paths()
        suggestion, suggested_at = await self._looked_up(
            ActivityName.SUGGEST,
            SuggestInput(
                description=intake.description,
                grid=intake.location.grid,
                category_hint=intake.category_hint,
                case_id=intake.case_id,
                filed_at=file.case.created_at,
            ),
            Suggestion,
        )
        self._policy = suggestion.policy
        # The hotline may have withdrawn the case while the classifier ran.
        if not file.closed:
            with self._timed(suggested_at):
                self._triage(suggestion)
        self._intake_done = True

        keepers = self._start_keepers()
        await workflow.wait_condition(lambda: (file.closed and self._settled()) or self._failed())
        self._raise_keeper_failure()
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() or self._failed())
        self._raise_keeper_failure()
        for keeper in keepers:
            keeper.cancel()
        # The search-attribute keeper is cancelled with the rest: whatever the
        # close changed that it has not upserted yet goes out before the case ends.
        self._sync_search_attributes()
        await self._project_once()
        outcome = file.case.outcome or Outcome.WITHDRAWN
        assert file.case.closed_at is not None
        return CaseResult(case_id=file.case.id, outcome=outcome, closed_at=file.case.closed_at)

    def _failed(self) -> bool:
        # While replaying, a keeper that fails on a history it once ran through
        # means the code no longer matches the history: let the SDK report that
        # nondeterminism (or the replay reach live execution) rather than mask it.
        return self._keeper_failure is not None and not workflow.unsafe.is_replaying()

    def _raise_keeper_failure(self) -> None:
        # Raised from run, a non-Temporal exception fails the workflow task (not
        # the case): Temporal shows it and retries the task until a fix is deployed.
        if self._failed():
            assert self._keeper_failure is not None
            raise self._keeper_failure

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
        self._enter(next_stage(Action.DISPATCH))

    def _on_time(self, stage: Stage) -> bool | None:
        deadline = self._file.case.deadlines.get(stage.value)
        return None if deadline is None else self._now() <= deadline.due_at

    # --- queries --------------------------------------------------------------

    @workflow.query
    def case(self) -> CaseView:
        """The live case."""
        return self._file.case

    @workflow.query
    def snapshot(self) -> CaseSnapshot:
        """The live case and its timeline, oldest first."""
        return CaseSnapshot(case=self._file.case, events=self._file.events)

    @workflow.query
    def timeline(self, page: TimelineQuery) -> TimelinePage:
        """One page of the timeline, oldest first: a long case never outgrows a query answer."""
        limit = max(1, min(page.limit, TIMELINE_PAGE_MAX))
        after = max(0, page.after_seq)
        # seq is 1-based and gap-free, so it indexes the list directly.
        return TimelinePage(
            events=self._file.events[after : after + limit], last_seq=self._file.case.last_seq
        )

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
        return await self._moved_to(next_stage(Action.DISPATCH))

    @dispatch.validator
    def _validate_dispatch(self, cmd: DispatchInput) -> None:
        self._check(Action.DISPATCH, cmd.actor)
        require_text(cmd.category, "category")
        require_text(cmd.unit, "unit")
        case = self._file.case
        raise_refusal(check_dispatch(returns=case.returns, max_returns=self._policy.max_returns))

    @workflow.update(name=Action.REJECT.value)
    async def reject(self, cmd: RejectInput) -> CaseView:
        """Reject as invalid or outside the remit; the case closes."""
        self._record(EventType.REJECTED, cmd.actor, {"reason": cmd.reason})
        return self._close(Outcome.REJECTED, cmd.actor)

    @reject.validator
    def _validate_reject(self, cmd: RejectInput) -> None:
        self._check(Action.REJECT, cmd.actor)
        require_text(cmd.reason, "reason")

    @workflow.update(name=Action.ACCEPT.value)
    async def accept(self, cmd: AcceptInput) -> CaseView:
        """The assigned unit signs for the case (签收)."""
        self._file.case.accepted_on_time = self._on_time(Stage.ACCEPT)
        self._record(EventType.ACCEPTED, cmd.actor, {"unit": cmd.actor.unit, "note": cmd.note})
        return await self._moved_to(next_stage(Action.ACCEPT))

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
        return await self._moved_to(next_stage(Action.RETURN))

    @return_case.validator
    def _validate_return(self, cmd: ReturnInput) -> None:
        self._check(Action.RETURN, cmd.actor)
        require_text(cmd.reason, "reason")
        raise_refusal(check_return(arbitrated=self._file.case.arbitrated))

    @workflow.update(name=Action.PROGRESS.value)
    async def progress(self, cmd: ProgressInput) -> CaseView:
        """The assigned unit reports progress (过程反馈)."""
        self._record(EventType.PROGRESS, cmd.actor, {"note": cmd.note})
        return self._file.case

    @progress.validator
    def _validate_progress(self, cmd: ProgressInput) -> None:
        self._check(Action.PROGRESS, cmd.actor)
        require_text(cmd.note, "note")

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
        return await self._moved_to(next_stage(Action.COMPLETE))

    @complete.validator
    def _validate_complete(self, cmd: CompleteInput) -> None:
        self._check(Action.COMPLETE, cmd.actor)
        require_text(cmd.note, "note")

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
        return await self._moved_to(next_stage(Action.RECHECK, passed=False))

    @recheck.validator
    def _validate_recheck(self, cmd: RecheckInput) -> None:
        self._check(Action.RECHECK, cmd.actor)

    @workflow.update(name=Action.SUPERVISE.value)
    async def supervise(self, cmd: SuperviseInput) -> CaseView:
        """The command centre flags the case for supervision (督办); the unit holding it is told."""
        case = self._file.case
        case.supervised = True
        seq = self._record(EventType.SUPERVISED, cmd.actor, {"note": cmd.note})
        # The notice is a new activity: cases started before this change supervised
        # without one, and their replay must not meet an extra command here.
        if case.unit is not None and workflow.patched(SUPERVISION_NOTIFIES_UNIT):
            self._notify(
                seq,
                NoticeKind.SUPERVISION,
                case.unit,
                f"督办: case {case.id} is under supervision by the command centre "
                f"({cmd.note}); report progress promptly.",
                {"note": cmd.note},
            )
        return case

    @supervise.validator
    def _validate_supervise(self, cmd: SuperviseInput) -> None:
        self._check(Action.SUPERVISE, cmd.actor)
        require_text(cmd.note, "note")

    @workflow.update(name=Action.SUPPLEMENT.value)
    async def supplement(self, cmd: SupplementInput) -> CaseView:
        """The reporter called again (追加诉求): recorded, and the unit holding the case is told."""
        case = self._file.case
        data = {
            "note": cmd.note,
            "attachments": list(cmd.attachments) or None,
            "source": cmd.source,
            "reference": cmd.reference,
            "reported_status": cmd.reported_status,
        }
        seq = self._record(
            EventType.SUPPLEMENTED,
            cmd.actor,
            {key: value for key, value in data.items() if value is not None},
        )
        # A new update: no case recorded before it meets this code in a replay.
        self._notify(
            seq,
            NoticeKind.SUPPLEMENT,
            case.unit,
            f"追加诉求: the reporter of case {case.id} called again; see its timeline.",
            {"stage": case.stage.value},
        )
        return case

    @supplement.validator
    def _validate_supplement(self, cmd: SupplementInput) -> None:
        self._check(Action.SUPPLEMENT, cmd.actor)
        require_text(cmd.note, "note")

    @workflow.update(name=Action.WITHDRAW.value)
    async def withdraw(self, cmd: WithdrawInput) -> CaseView:
        """The hotline withdraws the grievance (撤回); the case closes."""
        self._record(EventType.WITHDRAWN, cmd.actor, {"reason": cmd.reason})
        return self._close(Outcome.WITHDRAWN, cmd.actor)

    @withdraw.validator
    def _validate_withdraw(self, cmd: WithdrawInput) -> None:
        self._check(Action.WITHDRAW, cmd.actor)
        require_text(cmd.reason, "reason")
