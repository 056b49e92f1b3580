"""The transition table: which action is allowed in which stage, and by whom.

This is the one place that says what may happen to a grievance. The workflow's
Update validators call :func:`check`; the API documents its routes from
:data:`TRANSITIONS`; the tests enumerate it. It is pure: no Temporal, no I/O.

Later actions (merge, arbitrate, extend, decide-extension, whistle, report-in)
slot in as new rows, with a new :class:`UnitScope` for summoned units and a
``guard`` where a rule needs more than stage, role and unit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from grievance_flow.workflows.contracts import Action, Actor, Role, Stage

OPEN_STAGES: frozenset[Stage] = frozenset(
    {Stage.REPORT, Stage.CLASSIFY, Stage.ACCEPT, Stage.HANDLE, Stage.RECHECK}
)
"""Every stage but ``closed``: supervise and withdraw are allowed in all of them."""


class UnitScope(StrEnum):
    """Which unit may act, on top of the role."""

    ANY = "any"
    """The role alone decides (dispatcher, verifier, hotline)."""
    ASSIGNED = "assigned"
    """Only the unit the case is currently assigned to (令行禁止: no one else's case)."""
    SUMMONED = "summoned"
    """Only a unit the lead unit summoned with a whistle (部门报到)."""
    ASSIGNED_OR_SUMMONED = "assigned_or_summoned"
    """The lead unit or a summoned one (both work the case; only the lead completes)."""


class RefusalKind(StrEnum):
    """Why an action is refused; the value is the error name the API returns."""

    FORBIDDEN = "Forbidden"
    """Wrong role or unit → HTTP 403."""
    CONFLICT = "Conflict"
    """Not allowed in the case's current stage → HTTP 409."""
    INVALID = "InvalidAction"
    """The action's own content is unusable (e.g. a blank reason) → HTTP 422."""


@dataclass(frozen=True)
class Transition:
    """One row of the table.

    Attributes:
        action: The action this row governs.
        roles: Roles that may perform it.
        from_stages: Stages in which it is allowed.
        to: Stages the case can move to; empty when the stage does not change.
        unit_scope: For the ``unit`` role, which unit may act.
        summary: One line for the API documentation.
    """

    action: Action
    roles: frozenset[Role]
    from_stages: frozenset[Stage]
    to: tuple[Stage, ...]
    unit_scope: UnitScope
    summary: str


@dataclass(frozen=True)
class Refusal:
    """Why an action may not happen, as a sentence an operator can act on."""

    kind: RefusalKind
    reason: str


def _row(
    action: Action,
    roles: set[Role],
    from_stages: set[Stage] | frozenset[Stage],
    to: tuple[Stage, ...],
    summary: str,
    unit_scope: UnitScope = UnitScope.ANY,
) -> Transition:
    return Transition(action, frozenset(roles), frozenset(from_stages), to, unit_scope, summary)


TRANSITIONS: Mapping[Action, Transition] = {
    row.action: row
    for row in (
        _row(
            Action.DISPATCH,
            {Role.DISPATCHER},
            {Stage.CLASSIFY},
            (Stage.ACCEPT,),
            "Assign a category and a handling unit (分类派单).",
        ),
        _row(
            Action.REJECT,
            {Role.DISPATCHER},
            {Stage.CLASSIFY},
            (Stage.CLOSED,),
            "Reject as invalid or outside the remit (不予受理).",
        ),
        _row(
            Action.MERGE,
            {Role.DISPATCHER},
            {Stage.CLASSIFY},
            (Stage.CLOSED,),
            "Close as a duplicate of an open case (并单).",
        ),
        _row(
            Action.ARBITRATE,
            {Role.DISPATCHER},
            {Stage.CLASSIFY},
            (Stage.ACCEPT,),
            "After too many returns, force the case onto a unit that may not return it (裁定).",
        ),
        _row(
            Action.ACCEPT,
            {Role.UNIT},
            {Stage.ACCEPT},
            (Stage.HANDLE,),
            "Sign for the case (签收).",
            UnitScope.ASSIGNED,
        ),
        _row(
            Action.RETURN,
            {Role.UNIT},
            {Stage.ACCEPT},
            (Stage.CLASSIFY,),
            "Send the case back to dispatch with a reason (退回).",
            UnitScope.ASSIGNED,
        ),
        _row(
            Action.PROGRESS,
            {Role.UNIT},
            {Stage.HANDLE},
            (),
            "Report progress while handling (过程反馈); summoned units may too.",
            UnitScope.ASSIGNED_OR_SUMMONED,
        ),
        _row(
            Action.WHISTLE,
            {Role.UNIT},
            {Stage.HANDLE},
            (),
            "Summon other units to the case (吹哨); each must report in.",
            UnitScope.ASSIGNED,
        ),
        _row(
            Action.REPORT_IN,
            {Role.UNIT},
            {Stage.HANDLE},
            (),
            "A summoned unit reports in (报到).",
            UnitScope.SUMMONED,
        ),
        _row(
            Action.COMPLETE,
            {Role.UNIT},
            {Stage.HANDLE},
            (Stage.RECHECK,),
            "Report the work done with a result (办结).",
            UnitScope.ASSIGNED,
        ),
        _row(
            Action.RECHECK,
            {Role.VERIFIER},
            {Stage.RECHECK},
            (Stage.CLOSED, Stage.HANDLE),
            "Record the verification and the citizen's satisfaction (核查回访); "
            "a failure goes back to handle (重办).",
        ),
        _row(
            Action.EXTEND,
            {Role.UNIT},
            {Stage.HANDLE},
            (),
            "Ask for more working days, before the handle deadline (延期申请).",
            UnitScope.ASSIGNED,
        ),
        _row(
            Action.DECIDE_EXTENSION,
            {Role.DISPATCHER},
            {Stage.HANDLE},
            (),
            "Approve or deny the pending extension request (延期审批).",
        ),
        _row(
            Action.SUPERVISE,
            {Role.DISPATCHER},
            OPEN_STAGES,
            (),
            "Flag the case for supervision (督办).",
        ),
        _row(
            Action.SUPPLEMENT,
            {Role.HOTLINE},
            OPEN_STAGES,
            (),
            "Record the reporter's further call about the open case (追加诉求).",
        ),
        _row(
            Action.WITHDRAW,
            {Role.HOTLINE},
            OPEN_STAGES,
            (Stage.CLOSED,),
            "Withdraw the grievance (撤回).",
        ),
    )
}


def _unit_may(scope: UnitScope, unit: str, assigned: str | None, summoned: Collection[str]) -> bool:
    if scope is UnitScope.ASSIGNED:
        return unit == assigned
    if scope is UnitScope.SUMMONED:
        return unit in summoned
    if scope is UnitScope.ASSIGNED_OR_SUMMONED:
        return unit == assigned or unit in summoned
    return True


def check(
    action: Action,
    *,
    stage: Stage,
    actor: Actor,
    assigned_unit: str | None,
    summoned: Collection[str] = (),
) -> Refusal | None:
    """Decide whether ``actor`` may perform ``action`` on a case in ``stage``.

    Who is asked before when: a wrong role or unit is refused (403) whatever the
    stage, so that a unit probing someone else's case learns nothing about it.

    Args:
        action: The requested action.
        stage: The case's current stage.
        actor: Who asks.
        assigned_unit: The unit the case is assigned to, if any.
        summoned: Units summoned by a whistle (``co_units``).

    Returns:
        None when allowed, otherwise the refusal.
    """
    row = TRANSITIONS[action]
    if actor.role not in row.roles:
        allowed = " or ".join(sorted(role.value for role in row.roles))
        return Refusal(
            RefusalKind.FORBIDDEN,
            f"'{action.value}' is for the {allowed} role, not {actor.role.value}.",
        )
    if actor.role is Role.UNIT:
        if not actor.unit:
            return Refusal(
                RefusalKind.FORBIDDEN, f"A unit key must name its unit to '{action.value}' a case."
            )
        if not _unit_may(row.unit_scope, actor.unit, assigned_unit, summoned):
            role = "summoned to" if row.unit_scope is UnitScope.SUMMONED else "assigned to"
            return Refusal(
                RefusalKind.FORBIDDEN,
                f"Unit '{actor.unit}' is not {role} this case and may not '{action.value}' it.",
            )
    if stage not in row.from_stages:
        where = ", ".join(sorted(s.value for s in row.from_stages))
        return Refusal(
            RefusalKind.CONFLICT,
            f"'{action.value}' is not allowed while the case is in stage '{stage.value}' "
            f"(allowed in: {where}).",
        )
    return None


MAX_EXTENSION_DAYS = 30
"""The most working days one extension request may ask for."""


def check_extension_request(
    *, now: datetime, handle_due_at: datetime | None, pending: bool, working_days: int
) -> Refusal | None:
    """Rules of 延期 on top of the table: before the deadline, one request at a time."""
    if not 1 <= working_days <= MAX_EXTENSION_DAYS:
        return Refusal(
            RefusalKind.INVALID,
            f"An extension asks for 1 to {MAX_EXTENSION_DAYS} working days, not {working_days}.",
        )
    if pending:
        return Refusal(
            RefusalKind.CONFLICT,
            "An extension request is already waiting for the command centre's decision.",
        )
    if handle_due_at is not None and now >= handle_due_at:
        return Refusal(
            RefusalKind.CONFLICT,
            f"The handle deadline passed at {handle_due_at.isoformat()}; an extension must be "
            "requested before the deadline.",
        )
    return None


def check_dispatch(*, returns: int, max_returns: int) -> Refusal | None:
    """A plain dispatch is refused once the case has been returned ``max_returns`` times."""
    if returns >= max_returns:
        return Refusal(
            RefusalKind.CONFLICT,
            f"The case has been returned {returns} times (limit {max_returns}): "
            "it must be arbitrated onto a unit.",
        )
    return None


def check_arbitrate(*, returns: int, max_returns: int) -> Refusal | None:
    """Arbitration is for a case returned ``max_returns`` times; before that, dispatch."""
    if returns < max_returns:
        return Refusal(
            RefusalKind.CONFLICT,
            f"Arbitration is for a case returned {max_returns} times; this one has been "
            f"returned {returns}: dispatch it.",
        )
    return None


def check_return(*, arbitrated: bool) -> Refusal | None:
    """An arbitrated assignment is final."""
    if arbitrated:
        return Refusal(
            RefusalKind.CONFLICT, "This assignment was arbitrated and may not be returned."
        )
    return None


def check_whistle(
    *, units: Collection[str], lead: str | None, summoned: Collection[str]
) -> Refusal | None:
    """A whistle names at least one unit, never the lead itself, and nobody twice."""
    if not units:
        return Refusal(RefusalKind.INVALID, "A whistle must summon at least one unit.")
    if lead in units:
        return Refusal(RefusalKind.INVALID, "The lead unit cannot summon itself.")
    if len(set(units)) != len(units):
        return Refusal(RefusalKind.INVALID, "A whistle names each unit once.")
    again = sorted(set(units) & set(summoned))
    if again:
        return Refusal(RefusalKind.CONFLICT, f"Already summoned: {', '.join(again)}.")
    return None


def check_report_in(*, unit: str, reported: Collection[str]) -> Refusal | None:
    """A summoned unit reports in once."""
    if unit in reported:
        return Refusal(RefusalKind.CONFLICT, f"Unit '{unit}' has already reported in.")
    return None


def check_extension_decision(*, pending: bool) -> Refusal | None:
    """A decision needs a pending request."""
    if not pending:
        return Refusal(RefusalKind.CONFLICT, "No extension request is pending on this case.")
    return None


def next_stage(action: Action, *, passed: bool = True) -> Stage:
    """The stage ``action`` moves a case to, read from its row's ``to``.

    Args:
        action: An action whose row moves the case.
        passed: For a row with two destinations (``recheck``): whether the
            result held (the first) or not (the second: 重办).

    Raises:
        ValueError: ``action`` does not move the case.
    """
    row = TRANSITIONS[action]
    if not row.to:
        raise ValueError(f"'{action.value}' does not move the case")
    return row.to[0] if passed or len(row.to) == 1 else row.to[1]
