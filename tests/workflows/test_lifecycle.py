"""The transition table, enumerated: every action × stage × role × unit."""

from __future__ import annotations

import itertools

import pytest

from grievance_flow.workflows.contracts import Action, Actor, Role, Stage
from grievance_flow.workflows.lifecycle import (
    OPEN_STAGES,
    TRANSITIONS,
    RefusalKind,
    UnitScope,
    check,
    next_stage,
)

ASSIGNED = "grid-1"
OTHER = "grid-2"
SUMMONED = "dept-cg"

# What SPEC §4 fixes, written out independently of the table under test.
EXPECTED: dict[Action, tuple[set[Role], set[Stage]]] = {
    Action.DISPATCH: ({Role.DISPATCHER}, {Stage.CLASSIFY}),
    Action.REJECT: ({Role.DISPATCHER}, {Stage.CLASSIFY}),
    Action.ACCEPT: ({Role.UNIT}, {Stage.ACCEPT}),
    Action.RETURN: ({Role.UNIT}, {Stage.ACCEPT}),
    Action.PROGRESS: ({Role.UNIT}, {Stage.HANDLE}),
    Action.COMPLETE: ({Role.UNIT}, {Stage.HANDLE}),
    Action.RECHECK: ({Role.VERIFIER}, {Stage.RECHECK}),
    Action.MERGE: ({Role.DISPATCHER}, {Stage.CLASSIFY}),
    Action.ARBITRATE: ({Role.DISPATCHER}, {Stage.CLASSIFY}),
    Action.WHISTLE: ({Role.UNIT}, {Stage.HANDLE}),
    Action.REPORT_IN: ({Role.UNIT}, {Stage.HANDLE}),
    Action.EXTEND: ({Role.UNIT}, {Stage.HANDLE}),
    Action.DECIDE_EXTENSION: ({Role.DISPATCHER}, {Stage.HANDLE}),
    Action.SUPERVISE: ({Role.DISPATCHER}, set(OPEN_STAGES)),
    Action.SUPPLEMENT: ({Role.HOTLINE}, set(OPEN_STAGES)),
    Action.WITHDRAW: ({Role.HOTLINE}, set(OPEN_STAGES)),
}

ACTORS = [Actor(role) for role in Role if role is not Role.UNIT] + [
    Actor(Role.UNIT, ASSIGNED),
    Actor(Role.UNIT, SUMMONED),
    Actor(Role.UNIT, OTHER),
    Actor(Role.UNIT, None),
]

# Which units may act, for the unit actions (SPEC §4: "assigned", "summoned").
UNITS_ALLOWED: dict[Action, set[str]] = {
    Action.PROGRESS: {ASSIGNED, SUMMONED},
    Action.REPORT_IN: {SUMMONED},
}


def test_table_covers_exactly_the_spec_actions() -> None:
    assert set(TRANSITIONS) == set(EXPECTED) == set(Action)


@pytest.mark.parametrize(
    ("action", "stage", "actor"), list(itertools.product(Action, Stage, ACTORS))
)
def test_every_combination(action: Action, stage: Stage, actor: Actor) -> None:
    roles, stages = EXPECTED[action]
    refusal = check(action, stage=stage, actor=actor, assigned_unit=ASSIGNED, summoned=[SUMMONED])
    role_ok = actor.role in roles
    unit_ok = actor.role is not Role.UNIT or actor.unit in UNITS_ALLOWED.get(action, {ASSIGNED})
    if not role_ok or not unit_ok:
        assert refusal is not None and refusal.kind is RefusalKind.FORBIDDEN
        assert action.value in refusal.reason
    elif stage not in stages:
        assert refusal is not None and refusal.kind is RefusalKind.CONFLICT
        assert stage.value in refusal.reason
    else:
        assert refusal is None


def test_closed_allows_nothing() -> None:
    for actor, action in itertools.product(ACTORS, TRANSITIONS):
        refusal = check(action, stage=Stage.CLOSED, actor=actor, assigned_unit=ASSIGNED)
        assert refusal is not None


def test_unit_actions_are_scoped() -> None:
    for row in TRANSITIONS.values():
        if Role.UNIT in row.roles:
            assert row.unit_scope is not UnitScope.ANY


def test_a_unit_learns_nothing_about_someone_elses_case() -> None:
    # Wrong unit is refused as 403 even where the stage would also be wrong (409).
    refusal = check(
        Action.COMPLETE, stage=Stage.CLASSIFY, actor=Actor(Role.UNIT, OTHER), assigned_unit=ASSIGNED
    )
    assert refusal is not None and refusal.kind is RefusalKind.FORBIDDEN


def test_unassigned_case_refuses_every_unit() -> None:
    refusal = check(
        Action.ACCEPT, stage=Stage.ACCEPT, actor=Actor(Role.UNIT, ASSIGNED), assigned_unit=None
    )
    assert refusal is not None and refusal.kind is RefusalKind.FORBIDDEN


def test_next_stage_reads_the_table() -> None:
    # SPEC §2, written out: where each moving action takes the case.
    assert {action: next_stage(action) for action, row in TRANSITIONS.items() if row.to} == {
        Action.DISPATCH: Stage.ACCEPT,
        Action.REJECT: Stage.CLOSED,
        Action.MERGE: Stage.CLOSED,
        Action.ARBITRATE: Stage.ACCEPT,
        Action.ACCEPT: Stage.HANDLE,
        Action.RETURN: Stage.CLASSIFY,
        Action.COMPLETE: Stage.RECHECK,
        Action.RECHECK: Stage.CLOSED,
        Action.WITHDRAW: Stage.CLOSED,
    }
    # A failed recheck goes back to handle (重办).
    assert next_stage(Action.RECHECK, passed=False) is Stage.HANDLE
    with pytest.raises(ValueError, match="does not move"):
        next_stage(Action.PROGRESS)


def test_targets_are_open_or_closed_stages() -> None:
    for row in TRANSITIONS.values():
        assert row.from_stages <= OPEN_STAGES
        assert all(stage is not Stage.REPORT for stage in row.to)


def test_extension_request_rules() -> None:
    from datetime import UTC, datetime, timedelta

    from grievance_flow.workflows.lifecycle import check_extension_decision, check_extension_request

    now = datetime(2026, 11, 20, 8, tzinfo=UTC)
    due = now + timedelta(days=3)
    assert (
        check_extension_request(now=now, handle_due_at=due, pending=False, working_days=5) is None
    )
    late = check_extension_request(now=due, handle_due_at=due, pending=False, working_days=5)
    assert late is not None and late.kind is RefusalKind.CONFLICT and "before" in late.reason
    twice = check_extension_request(now=now, handle_due_at=due, pending=True, working_days=5)
    assert twice is not None and twice.kind is RefusalKind.CONFLICT
    for days in (0, -1, 31):
        bad = check_extension_request(now=now, handle_due_at=due, pending=False, working_days=days)
        assert bad is not None and bad.kind is RefusalKind.INVALID
    assert check_extension_decision(pending=True) is None
    nothing = check_extension_decision(pending=False)
    assert nothing is not None and nothing.kind is RefusalKind.CONFLICT
