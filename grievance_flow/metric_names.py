"""Every metric grievance-flow exports, by name (SPEC §8), and the values of its labels.

The API (:mod:`grievance_flow.api.metrics`) and the workflow
(:mod:`grievance_flow.workflows.sla_metrics`) create their metrics from these
names, and a test holds the README's table to them, so none can drift apart.
Label values are fixed sets or route templates: never a case id or anything a
reporter wrote.
"""

from __future__ import annotations

from enum import StrEnum

HTTP_REQUESTS = "grievance_http_requests_total"
"""API counter, labels ``route`` (the template), ``method``, ``status``."""
HTTP_REQUEST_DURATION = "grievance_http_request_duration_seconds"
"""API histogram of the time to answer, labels ``route``, ``method``."""
ACTIONS = "grievance_actions_total"
"""API counter of actor actions, labels ``action`` and ``result`` (:class:`ActionResult`)."""
SLA_EVENTS = "grievance_sla_events_total"
"""Worker counter of SLA steps fired, label ``type`` (:class:`SlaEventType`)."""
CLOCK_LATENESS = "grievance_clock_lateness_seconds"
"""Worker histogram: how long after its planned time an SLA step fired."""

UNMATCHED_ROUTE = "unmatched"
"""The ``route`` of a request no route matched: one value, whatever the path was."""

CLOCK_LATENESS_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0)
"""Seconds. On time is well under a second; an outage of the workers shows as minutes to hours."""


class ActionResult(StrEnum):
    """How an action ended, as ``grievance_actions_total{result}`` counts it."""

    OK = "ok"
    """Applied (200)."""
    REFUSED = "refused"
    """Refused by the role, unit or request (403, 422)."""
    CONFLICT = "conflict"
    """Not allowed in the case's current state (409)."""
    NOT_FOUND = "not_found"
    """No such case (404)."""
    UNAVAILABLE = "unavailable"
    """Temporal, a worker or the database could not serve it (503)."""


class SlaEventType(StrEnum):
    """What an SLA step did, as ``grievance_sla_events_total{type}`` counts it."""

    WARNING = "warning"
    """黄灯: the warning time passed."""
    OVERDUE = "overdue"
    """红灯: the deadline passed."""
    CHASE = "chase"
    """催办: the responsible unit (or the command centre) was chased."""
    ESCALATED = "escalated"
    """提级 / 督办: escalated to the unit above or put under supervision."""


def action_result(status_code: int) -> ActionResult:
    """The result an action's HTTP status counts as."""
    if status_code < 300:
        return ActionResult.OK
    if status_code == 404:
        return ActionResult.NOT_FOUND
    if status_code == 409:
        return ActionResult.CONFLICT
    if status_code >= 500:
        return ActionResult.UNAVAILABLE
    return ActionResult.REFUSED
