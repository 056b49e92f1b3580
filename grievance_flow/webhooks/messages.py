"""The message a subscriber receives for one case event (SPEC §10)."""

from __future__ import annotations

from typing import Any

from grievance_flow.store.serialization import to_jsonable
from grievance_flow.workflows.contracts import (
    PUBLIC_EVENT_TYPES,
    CaseView,
    Event,
    Stage,
    Status,
)

_PUBLIC = frozenset(PUBLIC_EVENT_TYPES)
EVENT_PREFIX = "case."
"""A message's ``type`` is this and the event type: ``case.dispatched``."""


def is_public(event: Event) -> bool:
    """Whether ``event`` goes to subscribers (SPEC §4's types, and ``supplemented``)."""
    return event.type in _PUBLIC


def message(case: CaseView, event: Event) -> dict[str, Any]:
    """``{id, type, case_id, external_id, seq, at, stage, status, data}`` of ``event``.

    ``id`` (also the ``webhook-id``) is ``<case>:<seq>``, the same on every
    attempt, so a receiver recognises a message it has had. ``status`` is the
    case's at that event: closed from the event that closed it on.
    """
    status = Status.CLOSED if event.stage is Stage.CLOSED else Status.OPEN
    return {
        "id": f"{case.id}:{event.seq}",
        "type": EVENT_PREFIX + event.type.value,
        "case_id": case.id,
        "external_id": case.external_id,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "stage": event.stage.value,
        "status": status.value,
        "data": to_jsonable(event.data),
    }
