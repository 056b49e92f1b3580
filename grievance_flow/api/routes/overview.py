"""``GET /v1/overview``: open cases per stage, the red and yellow lights, the latest escalations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CurrentActor, EngineDep
from grievance_flow.api.errors import responses
from grievance_flow.api.overview_schemas import OverviewPublic
from grievance_flow.store.overview import read_overview
from grievance_flow.workflows.contracts import Role

router = APIRouter(prefix="/v1", tags=["overview"])

READERS = frozenset({Role.DISPATCHER, Role.AUDITOR, Role.ADMIN, Role.UNIT})
"""A unit sees only the cases assigned to it."""


@router.get(
    "/overview",
    response_model=OverviewPublic,
    response_model_by_alias=True,
    responses=responses(401, 403, 422, 503),
    summary="The situation now (态势): stages, red and yellow lights, escalations",
)
async def read_overview_now(
    actor: CurrentActor,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Cases listed per light")] = 50,
    escalations: Annotated[int, Query(ge=0, le=500, description="Escalations listed")] = 20,
) -> OverviewPublic:
    """Open cases per stage (every stage, 0 included), the red lights (超期: past the
    current stage's deadline) and yellow lights (预警: past its warning time, not yet
    due), each oldest deadline first with its total, and the latest escalations.
    A unit key sees the cases assigned to it only."""
    require_role(actor, READERS, "read the overview")
    unit = actor.unit if actor.role is Role.UNIT else None
    overview = await asyncio.to_thread(
        read_overview,
        engine,
        now=datetime.now(UTC),
        unit=unit,
        limit=limit,
        escalations=escalations,
    )
    return OverviewPublic.of(overview)
