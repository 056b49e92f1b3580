"""Open311 service requests and updates, as documents, from the read model's cases and events.

Nothing here reads the reporter's name, phone or e-mail into a document: a
request carries the case's public fields only, and an update's sentence is
redacted against the reporter (:mod:`grievance_flow.open311.notes`).
"""

from __future__ import annotations

from typing import Any

from grievance_flow.catalogue.model import Catalogue
from grievance_flow.open311.notes import PublicNotes, redact
from grievance_flow.open311.status import request_status, update_status
from grievance_flow.store.open311 import CaseUpdate, service_code_of
from grievance_flow.workflows.contracts import CaseView, Outcome, Stage, Status

_OUTCOMES = frozenset(outcome.value for outcome in Outcome)


class RequestDocuments:
    """Builds ``request`` and ``request_update`` items with the catalogue's names."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self._notes = PublicNotes(catalogue)

    def request(self, case: CaseView, *, full: bool) -> dict[str, Any]:
        """The ``request`` of ``case``; its words and whereabouts only when ``full``.

        ``status_notes`` says where the case stands, in words.
        """
        code = service_code_of(case)
        category = self._catalogue.categories.get(code) if code else None
        unit = self._catalogue.units.get(case.unit) if case.unit else None
        deadline = case.deadlines.get(case.stage.value) if case.status is Status.OPEN else None
        return {
            "service_request_id": case.id,
            "status": request_status(case.status),
            "status_notes": self.status_note(case),
            "service_name": category.name if category else None,
            "service_code": code,
            "description": redact(case.description, case.reporter) if full else None,
            "agency_responsible": unit.name if unit else None,
            "service_notice": None,
            "requested_datetime": case.created_at,
            "updated_datetime": case.updated_at,
            "expected_datetime": deadline.due_at if deadline else None,
            "address": case.location.address if full else None,
            "address_id": None,
            "zipcode": None,
            "lat": case.location.lat if full else None,
            "long": case.location.lon if full else None,
            "media_url": case.attachments[0] if full and case.attachments else None,
        }

    def status_note(self, case: CaseView) -> str:
        """What ``status_notes`` says when no event is at hand: the stage in words."""
        stage = {
            Stage.REPORT: "诉求已受理",
            Stage.CLASSIFY: "正在分类派单",
            Stage.ACCEPT: "已派单，等待承办单位签收",
            Stage.HANDLE: "承办单位办理中",
            Stage.RECHECK: "办理完毕，等待回访",
            Stage.CLOSED: "已结案",
        }
        return stage[case.stage]

    def update(self, update: CaseUpdate) -> dict[str, Any]:
        """The ``request_update`` of one public event."""
        event = update.event
        # A ``closed`` event names its own outcome; later events take the case's.
        recorded = event.data.get("outcome")
        outcome = Outcome(recorded) if recorded in _OUTCOMES else update.outcome
        return {
            "update_id": f"{update.case_id}:{event.seq}",
            "service_request_id": update.case_id,
            "status": update_status(event.stage, outcome).value,
            "updated_datetime": event.at,
            "description": self._notes.describe(event, update.reporter),
            "media_url": None,
        }
