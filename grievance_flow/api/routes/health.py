"""``GET /healthz``: can the API reach Temporal and the database?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from grievance_flow.api.deps import ResourcesDep
from grievance_flow.api.schemas import HealthPublic

router = APIRouter(tags=["health"])

_TIMEOUT = 3.0


@router.get("/healthz", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
async def healthz(resources: ResourcesDep) -> JSONResponse:
    """200 when Temporal and the database both answer, 503 (saying which not) otherwise."""
    temporal = "ok"
    database = "ok"
    try:
        await asyncio.wait_for(resources.client.service_client.check_health(), _TIMEOUT)
    except Exception as exc:  # any failure means "not healthy"; the body says which
        temporal = f"unreachable: {exc}"

    def ping() -> None:
        with resources.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), _TIMEOUT)
    except Exception as exc:
        database = f"unreachable: {exc}"
    healthy = temporal == "ok" and database == "ok"
    body = HealthPublic(
        status="ok" if healthy else "unavailable", temporal=temporal, database=database
    )
    return JSONResponse(status_code=200 if healthy else 503, content=body.model_dump())
