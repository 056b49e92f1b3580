"""``GET /healthz`` and ``GET /readyz``: can the API reach Temporal and the database?

``/healthz`` (liveness, SPEC §4) asks Temporal and the database. ``/readyz``
(readiness, for load balancers and orchestrators) asks them too, and whether a
worker polls the case task queue (Temporal's DescribeTaskQueue pollers): without
one, every action would wait and answer 503. It also adds what an operator must
act on without the API being down: today, a year within the next 60 days that
has no official 调休 arrangement loaded, so its deadlines are counted on an
estimate (a warning, never a failure).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from grievance_flow.api.calendar_schemas import CalendarTodayDep
from grievance_flow.api.deps import ApiResources, ResourcesDep
from grievance_flow.api.errors import ErrorBody
from grievance_flow.api.schemas import HealthPublic
from grievance_flow.deadlines.coverage import calendar_coverage

router = APIRouter(tags=["health"])

_TIMEOUT = 3.0

POLLER_RECENCY = timedelta(minutes=2)
"""A poller seen this recently counts as a live worker. An idle worker's long poll
lasts up to about 70 s, and Temporal keeps a gone poller listed for minutes."""


class ReadinessPublic(BaseModel):
    """``/readyz`` when Temporal and the database both answer."""

    status: Literal["ready"]
    checks: dict[str, str] = Field(
        description="Each dependency checked (`temporal`, `database`, `worker`): `ok`."
    )
    warnings: list[str] = Field(
        description="What an operator should act on soon; it does not make the API unready."
    )


class NotReadyPublic(ErrorBody):
    """``/readyz`` when a dependency does not answer: the error body plus the checks."""

    status: Literal["unavailable"]
    checks: dict[str, str] = Field(
        description="Each dependency: `ok`, `unreachable: …` or (worker) `missing: …`."
    )
    warnings: list[str]


async def _checks(resources: ApiResources) -> dict[str, str]:
    """Ask Temporal and the database, each within a few seconds: ``ok`` or why not."""
    checks = {"temporal": "ok", "database": "ok"}
    try:
        await asyncio.wait_for(resources.client.service_client.check_health(), _TIMEOUT)
    except Exception as exc:  # any failure means "not healthy"; the body says which
        checks["temporal"] = f"unreachable: {exc}"

    def ping() -> None:
        with resources.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), _TIMEOUT)
    except Exception as exc:
        checks["database"] = f"unreachable: {exc}"
    return checks


async def _worker_check(resources: ApiResources) -> str:
    """``ok`` when a worker polled the case task queue within :data:`POLLER_RECENCY`."""
    client, task_queue = resources.client, resources.gateway.task_queue
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        response = await client.workflow_service.describe_task_queue(
            request, timeout=timedelta(seconds=_TIMEOUT)
        )
    except Exception as exc:
        return f"unreachable: {exc}"
    since = datetime.now(UTC) - POLLER_RECENCY
    if any(poller.last_access_time.ToDatetime(UTC) >= since for poller in response.pollers):
        return "ok"
    return f"missing: no worker polled task queue '{task_queue}' in the last 2 minutes"


@router.get("/healthz", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
async def healthz(resources: ResourcesDep) -> JSONResponse:
    """200 when Temporal and the database both answer, 503 (saying which not) otherwise."""
    checks = await _checks(resources)
    healthy = all(value == "ok" for value in checks.values())
    body = HealthPublic(
        status="ok" if healthy else "unavailable",
        temporal=checks["temporal"],
        database=checks["database"],
    )
    return JSONResponse(status_code=200 if healthy else 503, content=body.model_dump())


@router.get(
    "/readyz",
    response_model=ReadinessPublic,
    responses={
        503: {
            "model": NotReadyPublic,
            "description": "Temporal or the database is down, or no worker polls the task queue.",
        }
    },
)
async def readyz(resources: ResourcesDep, today: CalendarTodayDep) -> JSONResponse:
    """200 ``ready`` with any warnings when Temporal, the database and a worker answer, else 503."""
    checks, worker = await asyncio.gather(_checks(resources), _worker_check(resources))
    checks["worker"] = worker
    warnings = list(calendar_coverage(resources.domain.calendar, today).warnings)
    down = [f"{name} {value}" for name, value in checks.items() if value != "ok"]
    if not down:
        ready = ReadinessPublic(status="ready", checks=checks, warnings=warnings)
        return JSONResponse(status_code=200, content=ready.model_dump())
    body = NotReadyPublic(
        error="Unavailable",
        detail="Not ready: " + "; ".join(down) + ".",
        status="unavailable",
        checks=checks,
        warnings=warnings,
    )
    return JSONResponse(status_code=503, content=body.model_dump())
