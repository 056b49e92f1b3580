"""Turn workflow payloads into API bodies, applying what the reader may see."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from grievance_flow.api.masking import email_for, phone_for
from grievance_flow.api.schemas import (
    ActorPublic,
    CasePublic,
    DeadlinePublic,
    EventPublic,
    ExtensionPublic,
    LocationPublic,
    ReporterPublic,
    SlaPublic,
)
from grievance_flow.workflows.contracts import Actor, CaseView, Event, StageDeadline, Status


def sla_state(deadline: StageDeadline, now: datetime) -> Literal["on_track", "warning", "overdue"]:
    """Traffic light of a clock at ``now``: on track, yellow (警告), red (超期)."""
    if now >= deadline.due_at:
        return "overdue"
    if now >= deadline.warn_at:
        return "warning"
    return "on_track"


def present_case(case: CaseView, reader: Actor, now: datetime) -> CasePublic:
    """The case as ``reader`` may see it at ``now``."""
    current = case.deadlines.get(case.stage.value)
    sla = None
    if current is not None and case.status is Status.OPEN:
        sla = SlaPublic(stage=case.stage, due_at=current.due_at, state=sla_state(current, now))
    return CasePublic(
        id=case.id,
        external_id=case.external_id,
        channel=case.channel,
        stage=case.stage,
        status=case.status,
        category=case.category,
        suggested_category=case.suggested_category,
        category_hint=case.category_hint,
        tier=case.tier,
        unit=case.unit,
        co_units=list(case.co_units),
        reporter=ReporterPublic(
            name=case.reporter.name,
            phone=phone_for(reader.role, case.reporter.phone),
            email=email_for(reader.role, case.reporter.email),
        ),
        description=case.description,
        location=LocationPublic(
            address=case.location.address,
            grid=case.location.grid,
            lat=case.location.lat,
            lon=case.location.lon,
        ),
        urgent=case.urgent,
        attachments=list(case.attachments),
        sla=sla,
        deadlines={
            stage: DeadlinePublic(
                sla_class=deadline.sla_class,
                started_at=deadline.started_at,
                warn_at=deadline.warn_at,
                due_at=deadline.due_at,
                escalate_at=deadline.escalate_at,
                calendar_source=deadline.calendar_source,
            )
            for stage, deadline in case.deadlines.items()
        },
        supervised=case.supervised,
        escalations=case.escalations,
        returns=case.returns,
        reopens=case.reopens,
        extension=None
        if case.extension is None
        else ExtensionPublic(
            unit=case.extension.unit,
            working_days=case.extension.working_days,
            reason=case.extension.reason,
            requested_at=case.extension.requested_at,
        ),
        accepted_on_time=case.accepted_on_time,
        completed_on_time=case.completed_on_time,
        overdue_stages=list(case.overdue_stages),
        arbitrated=case.arbitrated,
        reported_in=list(case.reported_in),
        merged_into=case.merged_into,
        merged_cases=list(case.merged_cases),
        attributes=dict(case.attributes),
        related_cases=list(case.related_cases),
        outcome=case.outcome,
        created_at=case.created_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
    )


def present_event(event: Event) -> EventPublic:
    """A timeline entry (events never carry the reporter's personal data)."""
    return EventPublic(
        seq=event.seq,
        type=event.type,
        at=event.at,
        actor=ActorPublic(
            role=event.actor.role,
            unit=event.actor.unit,
            holder=event.actor.holder,
            key_id=event.actor.key_id,
        ),
        stage=event.stage,
        data=event.data,
    )
