"""The SLA clocks' metrics, recorded from workflow code (SPEC §8).

Through ``workflow.metric_meter()`` only: it adds no command to the history
and records nothing while a history is replayed, so a step that fired once is
counted once, however often its case is replayed. The worker's runtime exports
them (:mod:`grievance_flow.telemetry`), with the SDK's own labels
(namespace, task queue, workflow type): never a case id.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from grievance_flow.metric_names import CLOCK_LATENESS, SLA_EVENTS, SlaEventType


def count_sla_event(event: SlaEventType) -> None:
    """Count one SLA event of this case (a warning, an overdue, a chase, an escalation)."""
    workflow.metric_meter().create_counter(
        SLA_EVENTS, "SLA steps fired, by type (warning, overdue, chase, escalated)."
    ).add(1, {"type": event.value})


def record_lateness(planned: datetime) -> None:
    """Record how many seconds after ``planned`` a step fires (now, by workflow time)."""
    late = max((workflow.now() - planned).total_seconds(), 0.0)
    workflow.metric_meter().create_histogram_float(
        CLOCK_LATENESS, "Seconds an SLA step fired after its planned time."
    ).record(late)
