"""The pure clock rules of workflows/sla.py: order, catch-up, moves, report-in clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from grievance_flow.workflows.contracts import Stage, StageDeadline
from grievance_flow.workflows.sla import (
    REPORT_IN,
    Clock,
    SlaStep,
    carry_over,
    due_step,
    next_wakeup,
)

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def deadline(
    stage: Stage, warn: int, due: int, escalate: int, clock: str | None = None
) -> StageDeadline:
    return StageDeadline(
        stage=stage,
        sla_class="complaint",
        started_at=T0,
        warn_at=T0 + timedelta(seconds=warn),
        due_at=T0 + timedelta(seconds=due),
        escalate_at=T0 + timedelta(seconds=escalate),
        clock=clock,
    )


def fire_all(clocks: list[Clock], now: datetime) -> list[tuple[str, SlaStep]]:
    fired = []
    while (due := due_step(clocks, now)) is not None:
        clock, step = due
        clock.mark(step)
        fired.append((clock.name, step))
    return fired


def test_steps_fire_in_order_and_once() -> None:
    clock = Clock("handle", Stage.HANDLE, deadline(Stage.HANDLE, 80, 100, 150), "grid-1")
    assert next_wakeup([clock]) == T0 + timedelta(seconds=80)
    assert fire_all([clock], T0 + timedelta(seconds=79)) == []
    assert fire_all([clock], T0 + timedelta(seconds=80)) == [("handle", SlaStep.WARN)]
    assert next_wakeup([clock]) == T0 + timedelta(seconds=100)
    assert fire_all([clock], T0 + timedelta(seconds=150)) == [
        ("handle", SlaStep.OVERDUE),
        ("handle", SlaStep.ESCALATE),
    ]
    assert next_wakeup([clock]) is None
    assert fire_all([clock], T0 + timedelta(days=9)) == []


def test_after_an_outage_every_clock_catches_up_in_time_order() -> None:
    stage = Clock("handle", Stage.HANDLE, deadline(Stage.HANDLE, 80, 100, 150), "grid-1")
    report_in = Clock(
        f"{REPORT_IN}:dept-cg",
        Stage.HANDLE,
        deadline(Stage.HANDLE, 40, 50, 90, clock=REPORT_IN),
        "dept-cg",
    )
    assert report_in.is_report_in and not stage.is_report_in
    assert fire_all([stage, report_in], T0 + timedelta(seconds=120)) == [
        ("report_in:dept-cg", SlaStep.WARN),
        ("report_in:dept-cg", SlaStep.OVERDUE),
        ("handle", SlaStep.WARN),
        ("report_in:dept-cg", SlaStep.ESCALATE),
        ("handle", SlaStep.OVERDUE),
    ]
    assert next_wakeup([stage, report_in]) == T0 + timedelta(seconds=150)


def test_a_moved_deadline_keeps_only_what_is_still_true() -> None:
    old = Clock("handle", Stage.HANDLE, deadline(Stage.HANDLE, 80, 100, 150), "grid-1")
    fire_all([old], T0 + timedelta(seconds=90))
    assert old.warned and not old.overdue
    later = carry_over(old, deadline(Stage.HANDLE, 160, 200, 250), T0 + timedelta(seconds=90))
    assert later is not None and not later.warned  # yellow again as the new deadline nears
    sooner = carry_over(old, deadline(Stage.HANDLE, 85, 200, 250), T0 + timedelta(seconds=90))
    assert sooner is not None and sooner.warned  # no second warning for the same yellow
    assert carry_over(None, deadline(Stage.HANDLE, 1, 2, 3), T0) is None
