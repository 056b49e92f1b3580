"""The API's Prometheus metrics (SPEC §8): requests, their durations and actor actions.

Each app has its own registry, served at ``GET /metrics`` in the Prometheus
text format. Several API processes therefore serve one registry each, and
Prometheus sums them; nothing is shared between processes.

``/metrics`` asks for no key: scrapers normally carry none, and nothing in it
identifies a case or a person. Requests are labelled by their route template
(``/v1/grievances/{case_id}``), never by the path, and a path no route matched
gets the one label :data:`~grievance_flow.metric_names.UNMATCHED_ROUTE`. Keep
the port off the public internet if request counts are themselves sensitive.
"""

from __future__ import annotations

import time
from contextvars import Token
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grievance_flow.logs import case_context
from grievance_flow.metric_names import (
    ACTIONS,
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    UNMATCHED_ROUTE,
    action_result,
)
from grievance_flow.workflows.contracts import Action

router = APIRouter(tags=["metrics"])


class ApiMetrics:
    """One app's registry and the metrics in it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        # prometheus-client adds ``_total`` to a counter's name itself.
        self.requests = Counter(
            HTTP_REQUESTS.removesuffix("_total"),
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            HTTP_REQUEST_DURATION,
            "Seconds from a request's arrival to the end of its answer.",
            ["route", "method"],
            registry=self.registry,
        )
        self.actions = Counter(
            ACTIONS.removesuffix("_total"),
            "Actor actions, by action and result (ok, refused, conflict, not_found, unavailable).",
            ["action", "result"],
            registry=self.registry,
        )

    def count_action(self, action: Action, status_code: int) -> None:
        """Count one action answered with ``status_code``."""
        self.actions.labels(action=action.value, result=action_result(status_code).value).inc()

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


async def _metrics(request: Request) -> ApiMetrics:
    # async: a plain def dependency would be run in the thread pool (see deps.py).
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[ApiMetrics, Depends(_metrics)]


@router.get("/metrics", include_in_schema=False)
async def metrics(registry: MetricsDep) -> Response:
    """The API's metrics in the Prometheus text format (no key: see the module docstring)."""
    return Response(content=registry.exposition(), media_type=CONTENT_TYPE_LATEST)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other a client invents is counted as ``other``."""


def _route_template(scope: Scope) -> str:
    # The router puts the matched route in the scope; its path is the template.
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class RequestMetrics:
    """ASGI middleware: count and time every HTTP request by route template.

    Mounted outermost, so it sees the status every other layer decided,
    :class:`~grievance_flow.api.errors.LastResort`'s 503 included. It also tags
    the log lines of a request about a case (the access line too) with its id.
    """

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before a response
        tagged: list[Token[str | None]] = []

        async def tracked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                case_id = scope.get("path_params", {}).get("case_id")
                if isinstance(case_id, str) and not tagged:
                    # Routing is done by now: the access line that follows is about this case.
                    tagged.append(case_context.set(case_id))
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        finally:
            for token in tagged:
                case_context.reset(token)
            route = _route_template(scope)
            method = scope.get("method", "")
            method = method if method in _METHODS else "other"
            self.metrics.requests.labels(route=route, method=method, status=str(status)).inc()
            self.metrics.duration.labels(route=route, method=method).observe(
                time.perf_counter() - started
            )
