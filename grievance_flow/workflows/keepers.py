"""The workflow's keepers: the only code that waits on time or calls activities.

Update handlers mutate the case file and queue work; these coroutines, started
by ``run``, do it: compute each entered stage's deadline, run the SLA clocks
(warn, overdue + chase, escalate), deliver notices, and project to the read
model. Every wait is a ``wait_condition`` recomputed from ``workflow.now()``
(the "updatable timer" pattern), so a clock that stops or moves cancels its timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from grievance_flow.metric_names import SlaEventType
    from grievance_flow.workflows.case_file import CaseFile
    from grievance_flow.workflows.contracts import (
        SYSTEM,
        ActivityName,
        Actor,
        CaseView,
        DeadlineInput,
        DuplicateMerged,
        EscalationInput,
        EscalationTarget,
        EventType,
        Notice,
        NoticeBatch,
        NoticeKind,
        Outcome,
        ProjectInput,
        Role,
        Stage,
        StageDeadline,
    )
    from grievance_flow.workflows.patches import (
        LOCAL_ACTIVITY_FALLBACK,
        LOOKUPS_KEEP_TASK_TIME,
        NOTICES_HANDED_OVER,
        SEARCH_ATTRIBUTES,
        SUMMONS_CLOSED_ON_ESCALATION,
    )
    from grievance_flow.workflows.sla import REPORT_IN, Clock, SlaStep, due_step, next_wakeup
    from grievance_flow.workflows.sla_metrics import count_sla_event, record_lateness
    from grievance_flow.workflows.visibility import SearchIndex, indexed_values

T = TypeVar("T")

# Classify, deadline, escalation target and projection are short and local to
# the worker, so they run as local activities: their results are still recorded
# in history (a replay reads the recorded deadline), but an action costs one
# workflow task instead of one per activity, and an Update answers once the read
# model has it. A local activity is tried for LOCAL_PATIENCE only: retrying it
# longer would keep the workflow task alive with heartbeats, three history events
# every 8 s for every open case during an outage. After that it is handed to the
# server as a normal activity, whose retries add nothing to the history and go on
# until it succeeds: an outage must delay a case, never lose it; the cap keeps a
# long outage from backing off for hours. Notices may wait on a slow webhook, so
# they are delivered by their own workflow (or, in old cases, an activity).
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
LOCAL_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=2), maximum_attempts=3)
"""Attempts at 0, 1 and 3 s. The count, not LOCAL_PATIENCE, is what ends a local
activity that fails fast (a refused connection): the SDK core (temporalio 1.35)
drops a schedule-to-close timeout that expires while the activity backs off
between attempts, and then retries it for ever (tests/workflows/test_outage.py)."""
LOCAL_PATIENCE = timedelta(seconds=6)
"""Below the 10 s workflow task timeout, so a failing local activity never heartbeats."""
QUICK = timedelta(seconds=10)
PROJECTION = timedelta(seconds=30)
NOTICE = timedelta(seconds=30)

COMMAND_CENTRE = "command-centre"
"""Where an escalation goes when there is no unit above (tier A, classify, recheck)."""


@dataclass
class ClockRequest:
    """A clock to compute: a stage's own (``entry``) or a summoned unit's report-in."""

    ticket: int
    stage: Stage
    started_at: datetime
    entry: int | None = None
    summoned: str | None = None


class CaseKeepers:
    """State and background work shared by the workflow's run loop and handlers."""

    def __init__(self, file: CaseFile) -> None:
        self._file = file
        # Clocks waiting for their deadline, oldest first; a handler that asked
        # for one waits until ``_clocked_ticket`` reaches its ticket.
        self._clock_queue: list[ClockRequest] = []
        self._tickets = 0
        self._clocked_ticket = 0
        self._clocks: dict[str, Clock] = {}
        # Bumped whenever a clock starts, stops or moves: wakes the SLA keeper.
        self._clock_version = 0
        self._outbox: list[Notice] = []
        self._projected_seq = 0
        # Merge targets still to be told of a duplicate merged into them (并单).
        self._targets_to_tell: list[tuple[str, DuplicateMerged]] = []
        # The first exception a keeper raised: the run loop re-raises it, so the
        # workflow task fails visibly and Temporal retries it, instead of a clock
        # or the projection stopping without a word.
        self._keeper_failure: BaseException | None = None
        # While the result of a local lookup is applied: the time the lookup was
        # asked at (see ``_looked_up``), which every record made meanwhile carries.
        self._as_of: datetime | None = None
        # Whether this case runs under ``lookups-keep-task-time``; known from its first lookup.
        self._keeps_task_time: bool | None = None
        # Whether a failing local activity is handed to the server (``local-activity-fallback``).
        self._falls_back: bool | None = None
        # What the case last upserted to visibility; None for a case started
        # before the search attributes (it has none and upserts none).
        self._search_index: SearchIndex | None = None

    # --- lifecycle helpers used by handlers ------------------------------------

    def _now(self) -> datetime:
        """The time a change is recorded at: ``workflow.now()``, or a lookup's asking time."""
        return self._as_of if self._as_of is not None else workflow.now()

    @contextmanager
    def _timed(self, at: datetime) -> Iterator[None]:
        """Record what the block changes as of ``at``. The block must not await."""
        self._as_of = at
        try:
            yield
        finally:
            self._as_of = None

    def _record(self, event_type: EventType, actor: Actor, data: dict[str, Any]) -> int:
        return self._file.record(event_type, actor, self._now(), data).seq

    def _request_clock(self, stage: Stage, *, entry: int | None, summoned: str | None) -> int:
        self._tickets += 1
        self._clock_queue.append(
            ClockRequest(self._tickets, stage, self._now(), entry=entry, summoned=summoned)
        )
        return self._tickets

    def _enter(self, stage: Stage) -> int | None:
        previous = self._file.case.stage
        # Leaving a stage stops its clock and every report-in clock running in it.
        for name, clock in list(self._clocks.items()):
            if clock.stage is previous:
                self._stop_clock(name)
        entry = self._file.enter(stage, self._now())
        if entry is None:
            return None
        return self._request_clock(stage, entry=entry, summoned=None)

    async def _clocks_known(self, ticket: int | None) -> CaseView:
        """Answer once the clock asked for with ``ticket`` is set, so the caller sees it."""
        if ticket is not None:
            await workflow.wait_condition(lambda: self._clocked_ticket >= ticket)
        return self._file.case

    async def _moved_to(self, stage: Stage) -> CaseView:
        """Enter ``stage`` and answer once its clock is known."""
        return await self._clocks_known(self._enter(stage))

    def _close(self, outcome: Outcome, actor: Actor) -> CaseView:
        for name in list(self._clocks):
            self._stop_clock(name)
        case = self._file.case
        self._file.close(outcome, actor, self._now())
        # 并单: the citizens whose duplicates were merged here are owed an answer too.
        for duplicate in case.merged_cases:
            self._notify(
                case.last_seq,
                NoticeKind.MERGED_CLOSED,
                None,
                f"并单办结: case {case.id} closed ({outcome.value}); call back the reporter "
                f"of its duplicate {duplicate}.",
                {"duplicate": duplicate, "outcome": outcome.value},
                role=Role.HOTLINE,
                suffix=duplicate,
            )
        return case

    def _notify(
        self,
        seq: int,
        kind: NoticeKind,
        unit: str | None,
        message: str,
        data: dict[str, Any] | None = None,
        *,
        role: Role | None = None,
        suffix: str | None = None,
    ) -> None:
        """Queue a notice to ``unit``, or to ``role`` (default: the command centre).

        The id is the case and the event's ``seq`` (plus ``suffix`` when one event
        sends several), so a retried delivery is recognised as the same notice.
        """
        case = self._file.case
        self._outbox.append(
            Notice(
                id=f"{case.id}:{seq}" + (f":{suffix}" if suffix else ""),
                case_id=case.id,
                kind=kind,
                recipient_role=Role.UNIT if unit else (role or Role.DISPATCHER),
                recipient_unit=unit,
                message=message,
                at=self._now(),
                data=data or {},
            )
        )

    def _settled(self) -> bool:
        return (
            not self._clock_queue
            and not self._outbox
            and not self._targets_to_tell
            and self._projected_seq >= self._file.case.last_seq
        )

    def _choose_paths(self) -> None:
        """Take the patched paths a case decides on at its start, before its first await.

        Asked in the first activation, not after a local activity: a patch
        marker written in the task a local result arrived in may be read as
        belonging to the task before it by a replay (see ``_looked_up``).
        """
        if workflow.patched(SEARCH_ATTRIBUTES):
            self._search_index = SearchIndex()

    def _start_keepers(self) -> list[asyncio.Task[None]]:
        keepers = [
            asyncio.create_task(self._guarded("deadlines", self._keep_deadlines())),
            asyncio.create_task(self._guarded("sla", self._keep_sla())),
            asyncio.create_task(self._guarded("notices", self._deliver_notices())),
            asyncio.create_task(self._guarded("projection", self._project())),
            asyncio.create_task(self._guarded("merge targets", self._tell_targets())),
        ]
        if self._search_index is not None:
            keepers.append(
                asyncio.create_task(
                    self._guarded("search attributes", self._keep_search_attributes())
                )
            )
        return keepers

    async def _guarded(self, name: str, keeper: Coroutine[Any, Any, None]) -> None:
        """Run ``keeper``; keep its exception for the run loop instead of losing it."""
        try:
            await keeper
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._keeper_failure is None:
                self._keeper_failure = KeeperFailure(f"the {name} keeper failed: {exc!r}")
                self._keeper_failure.__cause__ = exc

    async def _quick(
        self,
        activity: ActivityName,
        arg: Any,
        result_type: type[T],
        *,
        start_to_close: timedelta = QUICK,
    ) -> T:
        """Run ``activity`` locally; if it keeps failing, hand it to the server to retry."""
        result, _ = await self._quick_where(
            activity, arg, result_type, start_to_close=start_to_close
        )
        return result

    async def _quick_where(
        self,
        activity: ActivityName,
        arg: Any,
        result_type: type[T],
        *,
        start_to_close: timedelta = QUICK,
    ) -> tuple[T, bool]:
        """``_quick``, and whether the result came from the local activity (not the server)."""
        # Asked before the local activity runs, never once it failed: a patch
        # marker written in the task a local result arrived in may be read as
        # belonging to the task before it by a replay (see ``_looked_up``).
        if self._falls_back is None:
            self._falls_back = workflow.patched(LOCAL_ACTIVITY_FALLBACK)
        falls_back = self._falls_back
        try:
            result: T = await workflow.execute_local_activity(
                activity.value,
                arg,
                result_type=result_type,
                start_to_close_timeout=min(start_to_close, LOCAL_PATIENCE),
                schedule_to_close_timeout=LOCAL_PATIENCE,
                retry_policy=LOCAL_RETRY,
            )
            return result, True
        except (ActivityError, ApplicationError) as failure:
            # A timeout arrives as an ActivityError, the last attempt's failure as
            # the bare ApplicationError (the core does not wrap a local activity's);
            # one that says it is final is final here too.
            if isinstance(failure, ApplicationError) and failure.non_retryable:
                raise
            if not falls_back:
                raise
            workflow.logger.warning(
                "%s keeps failing on %s; retrying it as a normal activity",
                activity.value,
                self._file.case.id,
            )
            retried: T = await workflow.execute_activity(
                activity.value,
                arg,
                result_type=result_type,
                start_to_close_timeout=start_to_close,
                retry_policy=RETRY,
            )
            return retried, False

    async def _looked_up(
        self, activity: ActivityName, arg: Any, result_type: type[T]
    ) -> tuple[T, datetime]:
        """Run the lookup ``activity`` (``_quick``); return its result and when to apply it.

        A local activity's result is applied at the time it was asked for. The
        time ``workflow.now()`` reads once it resolves is not what a replay
        reads: a replay takes the activity's recorded completion time, while a
        live run whose task was completed before the result arrived (a retried
        task, after a worker died) takes the next task's start. Records made
        with that time made a rebuilt read model differ from the live one.
        A lookup handed to the server resolves in a task of its own, whose
        start both read alike.
        """
        asked_at = workflow.now()
        # Asked before the lookup, never after: a patch marker written in the
        # task the result arrived in would have the same two readings.
        if self._keeps_task_time is None:
            self._keeps_task_time = workflow.patched(LOOKUPS_KEEP_TASK_TIME)
        result, local = await self._quick_where(activity, arg, result_type)
        if local and self._keeps_task_time:
            return result, asked_at
        return result, workflow.now()

    # --- deadlines ----------------------------------------------------------------

    async def _keep_deadlines(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._clock_queue))
            request = self._clock_queue[0]
            case = self._file.case
            deadline = await self._quick(
                ActivityName.DEADLINE,
                DeadlineInput(
                    case_id=case.id,
                    stage=request.stage,
                    started_at=request.started_at,
                    category=case.category or case.suggested_category,
                    urgent=case.urgent,
                    clock=REPORT_IN if request.summoned else None,
                ),
                StageDeadline,
            )
            self._clock_queue.pop(0)
            self._clocked_ticket = request.ticket
            # A clock overtaken by a later move is computed (it is history) but not run.
            if request.summoned is not None:
                self._start_report_in_clock(request.summoned, deadline)
            elif request.entry == self._file.clock_entries and case.stage is request.stage:
                self._file.set_deadline(deadline)
                stage = request.stage
                responsible = case.unit if stage in (Stage.ACCEPT, Stage.HANDLE) else None
                self._start_clock(Clock(stage.value, stage, deadline, responsible))

    def _start_report_in_clock(self, unit: str, deadline: StageDeadline) -> None:
        case = self._file.case
        if case.stage is not deadline.stage or unit in case.reported_in:
            return
        name = f"{REPORT_IN}:{unit}"
        case.deadlines[name] = deadline
        self._start_clock(Clock(name, deadline.stage, deadline, unit))

    # --- SLA clocks -----------------------------------------------------------------

    def _start_clock(self, clock: Clock) -> None:
        self._clocks[clock.name] = clock
        self._clock_version += 1

    def _stop_clock(self, name: str) -> None:
        if self._clocks.pop(name, None) is not None:
            self._clock_version += 1

    async def _keep_sla(self) -> None:
        while True:
            wake = next_wakeup(list(self._clocks.values()))
            if wake is not None and wake <= workflow.now():
                await self._fire_due_steps()
                continue
            if await self._clocks_changed(wake):
                continue  # a clock started, stopped or moved: plan again
            await self._fire_due_steps()

    async def _clocks_changed(self, until: datetime | None) -> bool:
        """Sleep until ``until`` (forever if None); True if the clocks changed first."""
        version = self._clock_version
        timeout = None if until is None else (until - workflow.now()).total_seconds()
        try:
            await workflow.wait_condition(lambda: self._clock_version != version, timeout=timeout)
        except TimeoutError:
            return False
        return True

    async def _fire_due_steps(self) -> None:
        while (due := due_step(list(self._clocks.values()), workflow.now())) is not None:
            clock, step = due
            # Metrics only (no command, nothing while replaying): no patch needed.
            planned = clock.next_step()
            if planned is not None:
                record_lateness(planned[0])
            clock.mark(step)
            if step is SlaStep.WARN:
                count_sla_event(SlaEventType.WARNING)
                self._warn(clock)
            elif step is SlaStep.OVERDUE:
                count_sla_event(SlaEventType.OVERDUE)
                count_sla_event(SlaEventType.CHASE)
                self._chase(clock)
            else:
                await self._escalate(clock)

    def _clock_data(self, clock: Clock) -> dict[str, Any]:
        return {
            "clock": clock.name,
            "unit": clock.unit,
            "due_at": clock.deadline.due_at.isoformat(),
        }

    def _warn(self, clock: Clock) -> None:
        data = self._clock_data(clock) | {"warn_at": clock.deadline.warn_at.isoformat()}
        self._record(EventType.SLA_WARNING, SYSTEM, data)

    def _chase(self, clock: Clock) -> None:
        case = self._file.case
        case.overdue_stages.append(clock.name)
        self._record(EventType.SLA_OVERDUE, SYSTEM, self._clock_data(clock))
        recipient = clock.unit or COMMAND_CENTRE
        seq = self._record(
            EventType.CHASED, SYSTEM, self._clock_data(clock) | {"recipient": recipient}
        )
        self._notify(
            seq,
            NoticeKind.CHASE,
            clock.unit,
            f"催办: case {case.id} is overdue in {clock.name} "
            f"(due {clock.deadline.due_at.isoformat()}); act now or it will be escalated.",
            {"clock": clock.name, "due_at": clock.deadline.due_at.isoformat()},
        )

    async def _escalate(self, clock: Clock) -> None:
        case = self._file.case
        target = EscalationTarget()
        at = workflow.now()
        if clock.unit is not None and not clock.is_report_in:
            target, at = await self._looked_up(
                ActivityName.ESCALATION_TARGET,
                EscalationInput(case_id=case.id, unit=clock.unit),
                EscalationTarget,
            )
            if self._clocks.get(clock.name) is not clock:
                return  # the unit acted while we looked up its parent: nothing to escalate
        with self._timed(at):
            self._escalate_to(clock, target)

    def _escalate_to(self, clock: Clock, target: EscalationTarget) -> None:
        count_sla_event(SlaEventType.ESCALATED)
        case = self._file.case
        case.escalations += 1
        case.supervised = True
        destination = target.unit or COMMAND_CENTRE
        seq = self._record(
            EventType.ESCALATED,
            SYSTEM,
            self._clock_data(clock) | {"from": clock.unit, "to": destination, "tier": target.tier},
        )
        self._record(
            EventType.SUPERVISED,
            SYSTEM,
            {"note": f"escalated: {clock.name} overdue", "clock": clock.name},
        )
        if target.unit is None:
            self._notify(
                seq,
                NoticeKind.ESCALATION,
                None,
                f"督办: case {case.id} is still not done in {clock.name} "
                f"({clock.unit or 'no unit'}) past its deadline; it is now under supervision.",
                {"clock": clock.name, "unit": clock.unit},
            )
            return
        # 提级: the parent unit takes the case and must sign for it afresh; the old
        # unit loses it (its actions are refused from now on).
        self._close_summons(destination)
        case.unit, case.tier = target.unit, target.tier
        case.extension = None
        self._notify(
            seq,
            NoticeKind.ESCALATION,
            target.unit,
            f"提级: case {case.id} was escalated to you from {clock.unit} "
            f"({clock.name} overdue); accept it.",
            {"clock": clock.name, "from": clock.unit},
        )
        self._enter(Stage.ACCEPT)

    def _close_summons(self, destination: str) -> None:
        """Say which summoned units' report-in clocks an escalation out of the stage stops."""
        stage = self._file.case.stage
        lapsed = sorted(
            clock.unit
            for clock in self._clocks.values()
            if clock.is_report_in and clock.stage is stage and clock.unit is not None
        )
        if lapsed and workflow.patched(SUMMONS_CLOSED_ON_ESCALATION):
            # They stay summoned (co_units) and may still report in once the new
            # unit handles the case, but nobody chases them for it any more.
            self._record(
                EventType.SUMMONS_CLOSED,
                SYSTEM,
                {"units": lapsed, "reason": "escalated", "to": destination},
            )

    # --- notices, merge targets and projection ----------------------------------------

    async def _deliver_notices(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._outbox))
            if workflow.patched(NOTICES_HANDED_OVER):
                await self._hand_over_notices()
                continue
            await workflow.execute_activity(
                ActivityName.SEND_NOTICE.value,
                self._outbox[0],
                start_to_close_timeout=NOTICE,
                retry_policy=RETRY,
            )
            self._outbox.pop(0)

    async def _hand_over_notices(self) -> None:
        """Give every queued notice, as one batch, to a delivery workflow of its own.

        The case waits only for the hand-over: a receiver that is down delays its
        notices, never the case's close, and a merge storm's notices go in one
        workflow instead of one activity each.
        """
        batch = list(self._outbox)
        await self._quick(ActivityName.HAND_OVER_NOTICES, NoticeBatch(notices=batch), str)
        del self._outbox[: len(batch)]

    async def _tell_targets(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._targets_to_tell))
            into, duplicate = self._targets_to_tell[0]
            try:
                await workflow.get_external_workflow_handle(into).signal(
                    "duplicate_merged", duplicate
                )
            except Exception as exc:
                # The target closed after the API checked it: it will not answer
                # this reporter, so the hotline is told to, from here.
                workflow.logger.warning("merge target %s could not be told: %s", into, exc)
                case = self._file.case
                self._notify(
                    case.last_seq,
                    NoticeKind.MERGED_CLOSED,
                    None,
                    f"并单: case {case.id} was merged into {into}, which had already closed; "
                    f"call back its reporter with the outcome of {into}.",
                    {"duplicate": case.id, "target": into, "target_closed": True},
                    role=Role.HOTLINE,
                    suffix="merge-target",
                )
            self._targets_to_tell.pop(0)

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
        events = self._file.events[self._projected_seq :]
        # The version: when the task started, read as a replay reads it. Right
        # after a local activity resolved, workflow.now() may be read otherwise
        # live than in a replay; the newest event's time may not (it is the
        # time of the task that changed the case, a later one for a re-run).
        version = workflow.now()
        if self._keeps_task_time:
            version = max(event.at for event in events)
        await self._quick(
            ActivityName.PROJECT,
            ProjectInput(case=self._file.case, events=events, task_started_at=version),
            type(None),
            start_to_close=PROJECTION,
        )
        self._projected_seq = max(self._projected_seq, last_seq)

    # --- search attributes ------------------------------------------------------------

    def _search_attribute_changes(self) -> list[SearchAttributeUpdate[Any]]:
        if self._search_index is None:
            return []
        case = self._file.case
        clock = self._clocks.get(case.stage.value)
        overdue = clock is not None and clock.overdue
        return self._search_index.changes(indexed_values(case, overdue=overdue))

    def _sync_search_attributes(self) -> None:
        """Upsert the search attributes that changed since the last upsert, if any."""
        changes = self._search_attribute_changes()
        if changes and self._search_index is not None:
            workflow.upsert_search_attributes(changes)
            self._search_index.upserted(changes)

    async def _keep_search_attributes(self) -> None:
        # Like the projection, it waits for a stage's clock to be computed, so the
        # new stage and its deadline go out in one upsert, not two; and it wakes
        # once the handlers and keepers woken with it have run, so the changes one
        # workflow task makes usually go out together.
        while True:
            await workflow.wait_condition(
                lambda: not self._clock_queue and bool(self._search_attribute_changes())
            )
            self._sync_search_attributes()


class KeeperFailure(RuntimeError):
    """A keeper raised. Not an ``ApplicationError``: it fails the workflow task, not the case.

    Temporal shows the failed task with this message and retries it; the case
    carries on from its history once the cause is fixed.
    """
