"""The case file: a grievance's state and timeline, and the only code that mutates them.

Pure and deterministic: the workflow passes in ``now`` (``workflow.now()``), so
the same history always rebuilds the same case file on replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from grievance_flow.workflows.contracts import (
    CLOCKED_STAGES,
    Actor,
    CaseView,
    Event,
    EventType,
    FileGrievanceInput,
    Outcome,
    Stage,
    StageDeadline,
    Status,
)


class CaseFile:
    """A grievance's live state plus its append-only timeline.

    Attributes:
        case: The current case (what the API shows, before masking).
        events: The timeline, oldest first; ``seq`` is 1-based and gap-free.
        clock_entries: How many times a clocked stage has been entered; each entry
            waits for its deadline to be computed (see :meth:`enter`).
    """

    def __init__(self, intake: FileGrievanceInput, now: datetime) -> None:
        self.case = CaseView(
            id=intake.case_id,
            external_id=intake.external_id,
            channel=intake.channel,
            stage=Stage.REPORT,
            status=Status.OPEN,
            reporter=intake.reporter,
            description=intake.description,
            location=intake.location,
            category_hint=intake.category_hint,
            urgent=intake.urgent,
            attachments=list(intake.attachments),
            suggested_category=None,
            category=None,
            tier=None,
            unit=None,
            co_units=[],
            deadlines={},
            supervised=False,
            escalations=0,
            returns=0,
            reopens=0,
            outcome=None,
            created_at=now,
            updated_at=now,
            closed_at=None,
            last_seq=0,
            attributes=dict(intake.attributes),
            related_cases=list(intake.related_cases),
        )
        self.events: list[Event] = []
        self.clock_entries = 0

    @property
    def closed(self) -> bool:
        """Whether the case has reached ``closed``."""
        return self.case.status is Status.CLOSED

    def record(
        self, event_type: EventType, actor: Actor, now: datetime, data: dict[str, Any] | None = None
    ) -> Event:
        """Append an event in the current stage; ``None`` values are left out of ``data``."""
        event = Event(
            seq=len(self.events) + 1,
            type=event_type,
            at=now,
            actor=actor,
            stage=self.case.stage,
            data={key: value for key, value in (data or {}).items() if value is not None},
        )
        self.events.append(event)
        self.case.last_seq = event.seq
        self.case.updated_at = now
        return event

    def enter(self, stage: Stage, now: datetime) -> int | None:
        """Move to ``stage``.

        Returns:
            For a clocked stage, the entry number whose deadline the caller waits
            for; None for a stage without a clock.
        """
        self.case.stage = stage
        self.case.updated_at = now
        # The previous stage's clock stops here; the new one is set by set_deadline.
        self.case.deadlines.pop(stage.value, None)
        if stage not in CLOCKED_STAGES:
            return None
        self.clock_entries += 1
        return self.clock_entries

    def set_deadline(self, deadline: StageDeadline) -> None:
        """Store a computed clock, unless the case has already left that stage."""
        if self.case.stage is deadline.stage:
            self.case.deadlines[deadline.stage.value] = deadline

    def close(self, outcome: Outcome, actor: Actor, now: datetime) -> None:
        """Close the case with ``outcome`` and record the ``closed`` event."""
        self.case.outcome = outcome
        self.case.status = Status.CLOSED
        # Past clocks stay on the case: they are the facts on-time KPIs are read from.
        self.enter(Stage.CLOSED, now)
        self.case.closed_at = now
        self.record(EventType.CLOSED, actor, now, {"outcome": outcome.value})
