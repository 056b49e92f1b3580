"""Open311 statuses: the request's ``open``/``closed`` and mySociety's extended update set.

SPEC §9's table: where a case stands maps onto what FixMyStreet shows.
"""

from __future__ import annotations

from enum import StrEnum

from grievance_flow.workflows.contracts import Outcome, Stage, Status


class UpdateStatus(StrEnum):
    """mySociety's extended statuses for ``servicerequestupdates``."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    ACTION_SCHEDULED = "ACTION_SCHEDULED"
    FIXED = "FIXED"
    NO_FURTHER_ACTION = "NO_FURTHER_ACTION"
    DUPLICATE = "DUPLICATE"
    NOT_COUNCILS_RESPONSIBILITY = "NOT_COUNCILS_RESPONSIBILITY"
    CLOSED = "CLOSED"


_BY_STAGE = {
    Stage.REPORT: UpdateStatus.OPEN,
    Stage.CLASSIFY: UpdateStatus.OPEN,
    Stage.ACCEPT: UpdateStatus.OPEN,
    Stage.HANDLE: UpdateStatus.IN_PROGRESS,
    Stage.RECHECK: UpdateStatus.ACTION_SCHEDULED,
}

_BY_OUTCOME = {
    Outcome.RESOLVED: UpdateStatus.FIXED,
    Outcome.EXPLAINED: UpdateStatus.NO_FURTHER_ACTION,
    Outcome.UNRESOLVABLE: UpdateStatus.NO_FURTHER_ACTION,
    Outcome.UNRESOLVED: UpdateStatus.NO_FURTHER_ACTION,
    Outcome.MERGED: UpdateStatus.DUPLICATE,
    Outcome.REJECTED: UpdateStatus.NOT_COUNCILS_RESPONSIBILITY,
    Outcome.WITHDRAWN: UpdateStatus.CLOSED,
}


def update_status(stage: Stage, outcome: Outcome | None) -> UpdateStatus:
    """The extended status of a case in ``stage`` (closed: by its ``outcome``).

    Raises:
        ValueError: A closed case without an outcome.
    """
    if stage is Stage.CLOSED:
        if outcome is None:
            raise ValueError("a closed case has an outcome")
        return _BY_OUTCOME[outcome]
    return _BY_STAGE[stage]


def request_status(status: Status) -> str:
    """GeoReport's own ``open`` / ``closed``."""
    return "closed" if status is Status.CLOSED else "open"
