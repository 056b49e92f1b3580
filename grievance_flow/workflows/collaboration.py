"""Collaboration handlers: merge, arbitration, whistle and report-in, extensions.

The 12345 practices beyond the straight lifecycle (并单, 裁定, 吹哨报到, 延期),
kept apart from :mod:`grievance_flow.workflows.grievance` so each file reads in
one sitting. Same rules as there: validators consult the transition table and
refuse before history; handlers mutate the case file and queue work.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from grievance_flow.workflows.contracts import (
        SYSTEM,
        Action,
        ActivityName,
        Actor,
        ArbitrateInput,
        CasePolicy,
        CaseView,
        DecideExtensionInput,
        DuplicateMerged,
        EventType,
        ExtendDeadlineInput,
        ExtendInput,
        ExtensionRequest,
        MergeInput,
        NoticeKind,
        Outcome,
        ReportInInput,
        Stage,
        StageDeadline,
        WhistleInput,
    )
    from grievance_flow.workflows.keepers import CaseKeepers
    from grievance_flow.workflows.lifecycle import (
        RefusalKind,
        check,
        check_arbitrate,
        check_extension_decision,
        check_extension_request,
        check_report_in,
        check_whistle,
        next_stage,
    )
    from grievance_flow.workflows.patches import MERGE_CLOSES_FIRST, MERGE_RECORDS_ONE
    from grievance_flow.workflows.refusals import raise_refusal, refuse, require_text
    from grievance_flow.workflows.sla import REPORT_IN, carry_over


class CollaborationHandlers(CaseKeepers):
    """Updates and the merge signal shared into :class:`GrievanceWorkflow`."""

    _policy: CasePolicy
    _deciding_extension = False
    """An approved extension's new deadline is being computed (between accept and record)."""

    def _check(self, action: Action, actor: Actor) -> None:
        case = self._file.case
        raise_refusal(
            check(
                action,
                stage=case.stage,
                actor=actor,
                assigned_unit=case.unit,
                summoned=case.co_units,
            )
        )

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
        return await self._moved_to(next_stage(Action.ARBITRATE))

    @arbitrate.validator
    def _validate_arbitrate(self, cmd: ArbitrateInput) -> None:
        self._check(Action.ARBITRATE, cmd.actor)
        require_text(cmd.unit, "unit")
        case = self._file.case
        raise_refusal(check_arbitrate(returns=case.returns, max_returns=self._policy.max_returns))

    @workflow.update(name=Action.MERGE.value)
    async def merge(self, cmd: MergeInput) -> CaseView:
        """Close this case as a duplicate of ``into`` (并单); the target is told by signal."""
        case = self._file.case
        duplicate = DuplicateMerged(
            case_id=case.id, external_id=case.external_id, merged_at=self._now()
        )
        if workflow.patched(MERGE_CLOSES_FIRST):
            # Closed before the first await: an action that arrives while the target
            # is being told meets a closed case and is refused by its validator.
            case.merged_into = cmd.into
            self._record(EventType.MERGED, cmd.actor, {"into": cmd.into})
            self._targets_to_tell.append((cmd.into, duplicate))
            return self._close(Outcome.MERGED, cmd.actor)
        try:
            await workflow.get_external_workflow_handle(cmd.into).signal(
                "duplicate_merged", duplicate
            )
        except Exception as exc:
            # The API checked the target is open; it can still have finished since.
            # Nothing has changed here yet, so the case stays in classify.
            raise refuse(
                RefusalKind.CONFLICT, f"Case '{cmd.into}' cannot take a duplicate now: {exc}"
            ) from exc
        case.merged_into = cmd.into
        self._record(EventType.MERGED, cmd.actor, {"into": cmd.into})
        return self._close(Outcome.MERGED, cmd.actor)

    @merge.validator
    def _validate_merge(self, cmd: MergeInput) -> None:
        self._check(Action.MERGE, cmd.actor)
        require_text(cmd.into, "into")
        if cmd.into == self._file.case.id:
            raise refuse(RefusalKind.INVALID, "A case cannot be merged into itself.")

    @workflow.signal
    def duplicate_merged(self, duplicate: DuplicateMerged) -> None:
        """A duplicate was merged into this case: list it, to answer its reporter at close."""
        case = self._file.case
        if duplicate.case_id in case.merged_cases:
            return  # a re-delivered signal
        case.merged_cases.append(duplicate.case_id)
        if workflow.patched(MERGE_RECORDS_ONE):
            # The new duplicate and the count: the whole list in every event made
            # a storm of n merges cost O(n²) in history and read model.
            data: dict[str, object] = {
                "duplicate": duplicate.case_id,
                "count": len(case.merged_cases),
            }
        else:
            data = {"duplicate": duplicate.case_id, "duplicates": list(case.merged_cases)}
        self._record(EventType.MERGED, SYSTEM, data)

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
        require_text(cmd.reason, "reason")
        case = self._file.case
        raise_refusal(check_whistle(units=cmd.units, lead=case.unit, summoned=case.co_units))

    @workflow.update(name=Action.REPORT_IN.value)
    async def report_in(self, cmd: ReportInInput) -> CaseView:
        """A summoned unit reports in (报到); its clock stops."""
        case = self._file.case
        summoned = cmd.actor.unit
        assert summoned is not None  # the table admits only summoned units
        case.reported_in.append(summoned)
        clock = f"{REPORT_IN}:{summoned}"
        deadline = case.deadlines.get(clock)
        on_time = None if deadline is None else self._now() <= deadline.due_at
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
        raise_refusal(check_report_in(unit=cmd.actor.unit, reported=self._file.case.reported_in))

    @workflow.update(name=Action.EXTEND.value)
    async def extend(self, cmd: ExtendInput) -> CaseView:
        """The assigned unit asks for more working days (延期申请)."""
        case = self._file.case
        assert cmd.actor.unit is not None  # the table admits only the assigned unit
        case.extension = ExtensionRequest(
            unit=cmd.actor.unit,
            working_days=cmd.working_days,
            reason=cmd.reason,
            requested_at=self._now(),
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
        require_text(cmd.reason, "reason")
        case = self._file.case
        if self._deciding_extension:
            raise refuse(
                RefusalKind.CONFLICT,
                "The decision on the previous extension request is being applied; "
                "ask again in a moment.",
            )
        handle = case.deadlines.get(Stage.HANDLE.value)
        raise_refusal(
            check_extension_request(
                now=self._now(),
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
        # Until the decision is recorded below, a new request would overtake it.
        self._deciding_extension = True
        data: dict[str, object] = {
            "approved": cmd.approve,
            "working_days": request.working_days,
            "note": cmd.note,
        }
        current = case.deadlines.get(Stage.HANDLE.value)
        at = workflow.now()
        moved: StageDeadline | None = None
        if cmd.approve and current is not None:
            moved, at = await self._looked_up(
                ActivityName.EXTEND_DEADLINE,
                ExtendDeadlineInput(
                    case_id=case.id, deadline=current, working_days=request.working_days
                ),
                StageDeadline,
            )
        with self._timed(at):
            if moved is not None and current is not None:
                data |= {
                    "previous_due_at": current.due_at.isoformat(),
                    "due_at": moved.due_at.isoformat(),
                }
                if case.stage is Stage.HANDLE and case.deadlines.get(Stage.HANDLE.value) is current:
                    self._move_clock(moved)
            seq = self._record(EventType.EXTENSION_DECIDED, cmd.actor, data)
            self._deciding_extension = False
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
        raise_refusal(check_extension_decision(pending=self._file.case.extension is not None))

    def _move_clock(self, deadline: StageDeadline) -> None:
        self._file.set_deadline(deadline)
        moved = carry_over(self._clocks.get(deadline.stage.value), deadline, self._now())
        if moved is not None:
            self._start_clock(moved)
