"""SLA clocks (全周期管理): when a clock warns, goes overdue and escalates.

Pure and deterministic: the workflow asks which steps are due at
``workflow.now()`` and when to wake next; the deadlines themselves were computed
by an activity and recorded in history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from grievance_flow.workflows.contracts import Stage, StageDeadline

REPORT_IN = "report_in"
"""Clock-name prefix of a summoned unit's report-in clock: ``report_in:<unit>``."""


class SlaStep(StrEnum):
    """The three lights of a clock, in the order they fire."""

    WARN = "warn"
    """黄灯: ``policy.warn_at`` of the allowed time has passed."""
    OVERDUE = "overdue"
    """红灯: the deadline has passed; the responsible unit is chased (催办)."""
    ESCALATE = "escalate"
    """提级: still not done ``policy.escalate_after`` past the deadline."""


@dataclass
class Clock:
    """One running clock.

    Attributes:
        name: The stage's name, or ``report_in:<unit>`` for a summoned unit.
        stage: The stage it runs in; leaving the stage stops it.
        deadline: The recorded warn, due and escalate times.
        unit: Who is chased; None when the command centre or the verifiers are
            responsible (classify, recheck).
        warned, overdue, escalated: Which steps have fired.
    """

    name: str
    stage: Stage
    deadline: StageDeadline
    unit: str | None
    warned: bool = False
    overdue: bool = False
    escalated: bool = False

    def next_step(self) -> tuple[datetime, SlaStep] | None:
        """The next step to fire and when, or None once escalated."""
        if not self.warned:
            return self.deadline.warn_at, SlaStep.WARN
        if not self.overdue:
            return self.deadline.due_at, SlaStep.OVERDUE
        if not self.escalated:
            return self.deadline.escalate_at, SlaStep.ESCALATE
        return None

    def mark(self, step: SlaStep) -> None:
        """Record that ``step`` has fired."""
        if step is SlaStep.WARN:
            self.warned = True
        elif step is SlaStep.OVERDUE:
            self.overdue = True
        else:
            self.escalated = True

    @property
    def is_report_in(self) -> bool:
        """Whether this is a summoned unit's report-in clock."""
        return self.name.startswith(f"{REPORT_IN}:")


def next_wakeup(clocks: list[Clock]) -> datetime | None:
    """When the earliest pending step of any clock falls due, or None if none is pending."""
    times = [step[0] for clock in clocks if (step := clock.next_step()) is not None]
    return min(times, default=None)


def due_step(clocks: list[Clock], now: datetime) -> tuple[Clock, SlaStep] | None:
    """The earliest step due at ``now`` (ties by clock name), or None.

    The caller fires it, marks it, and asks again: after a worker outage every
    missed step fires, in order, and none twice.
    """
    due = [
        (planned[0], clock.name, clock, planned[1])
        for clock in clocks
        if (planned := clock.next_step()) is not None and planned[0] <= now
    ]
    if not due:
        return None
    _, _, clock, step = min(due, key=lambda item: (item[0], item[1]))
    return clock, step


def carry_over(old: Clock | None, deadline: StageDeadline, now: datetime) -> Clock | None:
    """A clock for a moved deadline (an approved extension) that keeps the steps still true.

    A warning already given stays given only if the new warning time has also
    passed; red and escalation start over against the new deadline.
    """
    if old is None:
        return None
    return Clock(
        name=old.name,
        stage=old.stage,
        deadline=deadline,
        unit=old.unit,
        warned=old.warned and deadline.warn_at <= now,
    )
