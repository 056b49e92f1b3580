"""Small builders of CaseView, Event and Notice values for store tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from grievance_flow.workflows.contracts import (
    Actor,
    CaseView,
    Event,
    EventType,
    Location,
    Notice,
    NoticeKind,
    Outcome,
    Reporter,
    Role,
    Stage,
    StageDeadline,
    Status,
    case_id_for,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 in Asia/Shanghai."""


def deadline(stage: Stage, started_at: datetime, *, hours: float = 4) -> StageDeadline:
    """A clock for ``stage`` due ``hours`` after ``started_at``."""
    allowed = timedelta(hours=hours)
    return StageDeadline(
        stage=stage,
        sla_class="complaint",
        started_at=started_at,
        due_at=started_at + allowed,
        warn_at=started_at + allowed * 0.8,
        escalate_at=started_at + allowed + timedelta(days=1),
    )


def make_case(
    external_id: str = "12345-0001",
    *,
    stage: Stage = Stage.HANDLE,
    created_at: datetime = T0,
    category: str | None = "city.street-vending",
    unit: str | None = "grid-1",
    due_in_hours: float | None = 4,
    last_seq: int = 5,
    **overrides: Any,
) -> CaseView:
    """A plausible case in ``stage``.

    Open cases get a deadline for their stage, started ``created_at`` and due
    ``due_in_hours`` later (``None``: no clock for the stage). A ``closed`` case
    is resolved one day after ``created_at``.
    """
    closed = stage is Stage.CLOSED
    deadlines: dict[str, StageDeadline] = {}
    if stage is not Stage.CLASSIFY:
        # A finished earlier clock, as a real case carries.
        deadlines[Stage.CLASSIFY.value] = deadline(Stage.CLASSIFY, created_at, hours=0.5)
    if not closed and due_in_hours is not None:
        deadlines[stage.value] = deadline(stage, created_at, hours=due_in_hours)
    case = CaseView(
        id=case_id_for(external_id),
        external_id=external_id,
        channel="phone",
        stage=stage,
        status=Status.CLOSED if closed else Status.OPEN,
        reporter=Reporter(name="张三", phone="13812345678"),
        description="东湖路菜场门口流动摊贩占道经营，早高峰影响通行",
        location=Location(address="东湖路18号", grid="grid-1", lat=30.5571, lon=114.3652),
        category_hint=None,
        urgent=False,
        attachments=["https://example.org/photo/1.jpg"],
        suggested_category=category,
        category=category,
        tier="D" if category else None,
        unit=unit,
        co_units=["dept-cg"],
        deadlines=deadlines,
        supervised=False,
        escalations=0,
        returns=1,
        reopens=0,
        outcome=Outcome.RESOLVED if closed else None,
        created_at=created_at,
        updated_at=created_at + timedelta(minutes=30),
        closed_at=created_at + timedelta(days=1) if closed else None,
        last_seq=last_seq,
    )
    return replace(case, **overrides)


_TIMELINE = (
    (EventType.REPORTED, Stage.REPORT, Actor(Role.HOTLINE)),
    (EventType.SUGGESTED, Stage.CLASSIFY, Actor(Role.SYSTEM)),
    (EventType.DISPATCHED, Stage.CLASSIFY, Actor(Role.DISPATCHER)),
    (EventType.ACCEPTED, Stage.ACCEPT, Actor(Role.UNIT, "grid-1")),
    (EventType.PROGRESS, Stage.HANDLE, Actor(Role.UNIT, "grid-1")),
)


def make_events(count: int, *, first_seq: int = 1, at: datetime = T0) -> list[Event]:
    """``count`` consecutive events from ``first_seq``, ten minutes apart."""
    events = []
    for seq in range(first_seq, first_seq + count):
        kind, stage, actor = _TIMELINE[(seq - 1) % len(_TIMELINE)]
        events.append(
            Event(
                seq=seq,
                type=kind,
                at=at + timedelta(minutes=10 * (seq - 1)),
                actor=actor,
                stage=stage,
                data={"note": f"第{seq}步", "units": ["grid-1"], "score": 0.75},
            )
        )
    return events


def make_notice(
    notice_id: str = "grievance-12345-0001/chase/handle/1",
    *,
    case_id: str = "grievance-12345-0001",
    kind: NoticeKind = NoticeKind.CHASE,
    unit: str | None = "grid-1",
    at: datetime = T0,
    **overrides: Any,
) -> Notice:
    """A notice to ``unit`` (or, with ``unit=None``, to the command centre)."""
    notice = Notice(
        id=notice_id,
        case_id=case_id,
        kind=kind,
        recipient_role=Role.UNIT if unit is not None else Role.DISPATCHER,
        recipient_unit=unit,
        message="案件办理已超期，请尽快办结（催办）",
        at=at,
        data={"stage": "handle", "due_at": "2026-03-02T05:00:00+00:00", "escalations": 0},
    )
    return replace(notice, **overrides)
