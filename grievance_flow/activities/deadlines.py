"""The deadline activity: turn a stage entry into an SLA clock.

Deadlines are computed here, outside workflow code, and the result is recorded
in the workflow history: a replay under a newer calendar or catalogue reads the
recorded deadline and never recomputes it. The recorded deadline also names the
calendar data that decided its working days (``calendar_source``), so an auditor
can tell a deadline counted on the State Council's arrangement from one counted
on an estimate.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio import activity

from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.catalogue.model import Catalogue, Duration, DurationUnit
from grievance_flow.deadlines.calendar import WorkingCalendar
from grievance_flow.deadlines.compute import deadline_after, warn_time
from grievance_flow.workflows.contracts import (
    ActivityName,
    DeadlineInput,
    ExtendDeadlineInput,
    Stage,
    StageDeadline,
)


class DeadlineActivities:
    """SLA clocks from the catalogue's SLA classes and the working-day calendar."""

    def __init__(self, catalogue: Catalogue, calendar: WorkingCalendar) -> None:
        self._catalogue = catalogue
        self._calendar = calendar

    def _escalation(self, due_at: datetime) -> datetime:
        escalate_after = self._catalogue.policy.escalate_after
        start = due_at
        if escalate_after.is_working_days:
            # A working-day deadline falls at 24:00, which is 00:00 of the next
            # day: the escalation clock started on the deadline's own day, so
            # "one working day later" must count the very next day too.
            start = due_at - timedelta(microseconds=1)
        return deadline_after(
            start, escalate_after, calendar=self._calendar, tz=self._catalogue.timezone_info
        )

    def _days_counted(self, start: datetime, end: datetime) -> tuple[date, date]:
        """The local days a working-day clock from ``start`` to ``end`` counted: (start, end]."""
        tz = self._catalogue.timezone_info
        return start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()

    @activity.defn(name=ActivityName.DEADLINE.value)
    async def compute_deadline(self, request: DeadlineInput) -> StageDeadline:
        """Compute when ``request.stage`` turns yellow, red, and escalates."""
        catalogue = self._catalogue
        try:
            sla = catalogue.sla_for(request.category, request.urgent)
        except CatalogueError:
            # A category dropped from a newer catalogue must not stall the case:
            # it keeps a clock, by the default class, and the log says why.
            activity.logger.warning(
                "case %s: category %r is not in the catalogue; using SLA class %r",
                request.case_id,
                request.category,
                catalogue.policy.default_sla,
            )
            sla = catalogue.sla_for(None, request.urgent)
        allowed = sla.for_stage(request.clock or request.stage.value)
        due_at = deadline_after(
            request.started_at, allowed, calendar=self._calendar, tz=catalogue.timezone_info
        )
        counted = (
            [self._days_counted(request.started_at, due_at)] if allowed.is_working_days else []
        )
        return self._clock(
            request.stage, sla.name, request.started_at, due_at, request.clock, counted
        )

    @activity.defn(name=ActivityName.EXTEND_DEADLINE.value)
    async def extend_deadline(self, request: ExtendDeadlineInput) -> StageDeadline:
        """Move a deadline on by the granted working days, counted from the current deadline."""
        current = request.deadline
        # The current deadline is 24:00 of its day (or a calendar time within it):
        # the granted days are the working days after that day.
        due_at = deadline_after(
            current.due_at - timedelta(microseconds=1),
            Duration(DurationUnit.WORKING_DAYS, request.working_days),
            calendar=self._calendar,
            tz=self._catalogue.timezone_info,
        )
        counted = [self._days_counted(current.due_at - timedelta(microseconds=1), due_at)]
        return self._clock(
            current.stage,
            current.sla_class,
            current.started_at,
            due_at,
            current.clock,
            counted,
            earlier_sources=current.calendar_source,
        )

    def _clock(
        self,
        stage: Stage,
        sla_class: str,
        started_at: datetime,
        due_at: datetime,
        clock: str | None,
        counted: list[tuple[date, date]],
        *,
        earlier_sources: str | None = None,
    ) -> StageDeadline:
        escalate_at = self._escalation(due_at)
        if self._catalogue.policy.escalate_after.is_working_days:
            counted.append(self._days_counted(due_at - timedelta(microseconds=1), escalate_at))
        labels = set() if earlier_sources is None else set(earlier_sources.split(", "))
        for first, last in counted:
            labels.update(self._calendar.sources_between(first, last))
        return StageDeadline(
            stage=stage,
            sla_class=sla_class,
            started_at=started_at,
            due_at=due_at,
            warn_at=warn_time(started_at, due_at, self._catalogue.policy.warn_at),
            escalate_at=escalate_at,
            clock=clock,
            calendar_source=", ".join(self._calendar.in_source_order(labels)) or None,
        )
