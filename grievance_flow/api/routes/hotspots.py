"""Hotspots (每月一题) and the cases the command centre opens for them (未诉先办).

``GET /v1/hotspots`` lists category × grid clusters from the read model;
``POST /v1/hotspots/open-case`` files a proactive case through the same
gateway as ``POST /v1/grievances``, so it runs the whole lifecycle like any
citizen's case and is linked to the cases behind it (``related_cases``).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import Engine

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CatalogueDep, CurrentActor, EngineDep, GatewayDep
from grievance_flow.api.errors import Forbidden, InvalidRequest, responses
from grievance_flow.api.hotspot_schemas import (
    MAX_RELATED_CASES,
    HotspotList,
    HotspotPublic,
    ProactiveCaseCreate,
    WindowPublic,
)
from grievance_flow.api.presenters import present_case
from grievance_flow.api.schemas import CasePublic, SearchText
from grievance_flow.catalogue.model import Catalogue, Tier
from grievance_flow.store.hotspots import Hotspot, Window, hotspots, known_cases, windows
from grievance_flow.workflows.contracts import (
    PROACTIVE_CHANNEL,
    FileGrievanceInput,
    Location,
    Reporter,
    Role,
    case_id_for,
)

router = APIRouter(prefix="/v1/hotspots", tags=["hotspots"])

READERS = frozenset({Role.DISPATCHER, Role.AUDITOR, Role.ADMIN, Role.UNIT})
"""The command centre and inspectors see every cluster; a unit those of its own cases."""

OPENERS = frozenset({Role.DISPATCHER})

RELATED_DAYS = 30
"""The window whose cluster a proactive case links by default: 每月一题 is monthly."""

PROACTIVE_REPORTER = Reporter(name="指挥中心（未诉先办）", phone="")
"""Who "reported" a proactive case: the command centre, not a citizen.

The phone is empty, as for an anonymous Open311 report: masking leaves an empty
number empty, and nobody calls a citizen back who does not exist. The name is
one no note is likely to contain (Open311 redacts the reporter's name from notes).
"""


@router.get(
    "",
    response_model=HotspotList,
    responses=responses(401, 403, 422, 503),
    summary="Hotspots: category × grid clusters, this window and the previous (每月一题)",
)
async def list_hotspots(
    actor: CurrentActor,
    engine: EngineDep,
    catalogue: CatalogueDep,
    days: Annotated[int, Query(ge=1, le=366, description="The length of each window.")] = 30,
    min_cases: Annotated[
        int, Query(ge=1, le=10000, description="The fewest cases in the window to be listed.")
    ] = 3,
    unit: Annotated[SearchText, Query(description="Only cases assigned to this unit.")] = None,
) -> HotspotList:
    """Clusters of cases filed in ``[now − days, now)`` with at least ``min_cases``
    cases, most first, each with its count in ``[now − 2·days, now − days)`` and the
    trend. Counted under the case's category (before dispatch, its suggested one);
    cases merged as duplicates, rejected, or opened proactively are not counted.
    A unit sees only the clusters of cases assigned to it."""
    require_role(actor, READERS, "read hotspots")
    if actor.role is Role.UNIT:
        if unit is not None and unit != actor.unit:
            raise Forbidden(f"Unit '{actor.unit}' may read only the hotspots of its own cases.")
        unit = actor.unit
    now = datetime.now(UTC)
    spans = windows(now, days)
    found = await asyncio.to_thread(
        lambda: hotspots(engine, now=now, days=days, min_cases=min_cases, unit=unit)
    )
    return HotspotList(
        days=days,
        min_cases=min_cases,
        window=_window(spans.current),
        previous=_window(spans.previous),
        items=[_present(spot, catalogue) for spot in found],
    )


@router.post(
    "/open-case",
    response_model=CasePublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": CasePublic, "description": "Already opened: the existing case."},
        **responses(401, 403, 422, 503),
    },
    summary="Open a proactive case for a hotspot (未诉先办)",
)
async def open_proactive_case(
    body: ProactiveCaseCreate,
    actor: CurrentActor,
    gateway: GatewayDep,
    engine: EngineDep,
    catalogue: CatalogueDep,
    response: Response,
) -> CasePublic:
    """File a case of channel ``proactive`` from the command centre: ``note`` is its
    description, the grid's name its address, ``category`` its category hint. It
    runs the normal lifecycle and lists the cases behind it in ``related_cases``
    (by default the hotspot's cases of the last 30 days)."""
    require_role(actor, OPENERS, "open proactive cases")
    category = catalogue.categories.get(body.category)
    if category is None:
        raise InvalidRequest(f"category '{body.category}' is not in the catalogue.")
    grid = catalogue.units.get(body.grid)
    if grid is None or grid.tier is not Tier.D:
        raise InvalidRequest(f"grid '{body.grid}' is not a grid (tier D unit) of the catalogue.")
    related = await asyncio.to_thread(lambda: _related_cases(engine, body))
    external_id = body.external_id or f"proactive-{uuid.uuid4().hex}"
    intake = FileGrievanceInput(
        case_id=case_id_for(external_id),
        external_id=external_id,
        channel=PROACTIVE_CHANNEL,
        reporter=PROACTIVE_REPORTER,
        description=body.note,
        location=Location(address=grid.name, grid=grid.id),
        filed_by=actor,
        category_hint=category.code,
        related_cases=related,
    )
    case, created = await gateway.file(intake)
    if not created:
        response.status_code = status.HTTP_200_OK
    return present_case(case, actor, datetime.now(UTC))


def _related_cases(engine: Engine, body: ProactiveCaseCreate) -> list[str]:
    """The cases given (each must exist), or the hotspot's newest of the last 30 days."""
    if body.related_cases is not None:
        given = list(dict.fromkeys(body.related_cases))  # once each, in the order given
        known = known_cases(engine, given)
        unknown = [case_id for case_id in given if case_id not in known]
        if unknown:
            raise InvalidRequest(f"related_cases: no case '{unknown[0]}'.")
        return given
    cluster = hotspots(
        engine,
        now=datetime.now(UTC),
        days=RELATED_DAYS,
        min_cases=1,
        category=body.category,
        grid=body.grid,
    )
    return cluster[0].case_ids[-MAX_RELATED_CASES:] if cluster else []


def _window(window: Window) -> WindowPublic:
    return WindowPublic.model_validate({"from": window.start, "to": window.end})


def _present(spot: Hotspot, catalogue: Catalogue) -> HotspotPublic:
    category = catalogue.categories.get(spot.category)
    grid = catalogue.units.get(spot.grid)
    return HotspotPublic(
        category=spot.category,
        category_name=category.name if category else None,
        grid=spot.grid,
        grid_name=grid.name if grid else None,
        cases=spot.cases,
        previous=spot.previous,
        trend=spot.trend,
        case_ids=spot.case_ids,
    )
