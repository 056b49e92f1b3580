"""Filing and reading grievances."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from grievance_flow.api.access import require_reader, require_role
from grievance_flow.api.deps import CatalogueDep, CurrentActor, GatewayDep
from grievance_flow.api.errors import Forbidden, InvalidRequest, responses
from grievance_flow.api.presenters import present_case, present_event
from grievance_flow.api.schemas import CaseList, CasePublic, EventPublic, GrievanceCreate
from grievance_flow.catalogue.model import Tier
from grievance_flow.workflows.contracts import (
    FileGrievanceInput,
    Location,
    Reporter,
    Role,
    Stage,
    case_id_for,
)

router = APIRouter(prefix="/v1/grievances", tags=["grievances"])

FILERS = frozenset({Role.HOTLINE, Role.DISPATCHER})


@router.post(
    "",
    response_model=CasePublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": CasePublic, "description": "Already filed: the existing case."},
        **responses(401, 403, 422, 503),
    },
    summary="File a grievance (受理)",
)
async def file_grievance(
    body: GrievanceCreate,
    actor: CurrentActor,
    gateway: GatewayDep,
    catalogue: CatalogueDep,
    response: Response,
) -> CasePublic:
    """Start the grievance's workflow. The same ``external_id`` again answers 200
    with the case already filed, and starts nothing."""
    require_role(actor, FILERS, "file grievances")
    grid = catalogue.units.get(body.location.grid)
    if grid is None or grid.tier is not Tier.D:
        raise InvalidRequest(
            f"location.grid '{body.location.grid}' is not a grid (tier D unit) of the catalogue."
        )
    if body.category_hint is not None and body.category_hint not in catalogue.categories:
        raise InvalidRequest(f"category_hint '{body.category_hint}' is not in the catalogue.")
    intake = FileGrievanceInput(
        case_id=case_id_for(body.external_id),
        external_id=body.external_id,
        channel=body.channel,
        reporter=Reporter(name=body.reporter.name, phone=body.reporter.phone),
        description=body.description,
        location=Location(
            address=body.location.address,
            grid=body.location.grid,
            lat=body.location.lat,
            lon=body.location.lon,
        ),
        filed_by=actor,
        category_hint=body.category_hint,
        urgent=body.urgent,
        attachments=list(body.attachments),
    )
    case, created = await gateway.file(intake)
    if not created:
        response.status_code = status.HTTP_200_OK
    return present_case(case, actor, datetime.now(UTC))


@router.get(
    "",
    response_model=CaseList,
    responses=responses(401, 403, 422, 503),
    summary="List cases from the read model",
)
async def list_grievances(
    actor: CurrentActor,
    gateway: GatewayDep,
    stage: Stage | None = None,
    unit: str | None = None,
    category: str | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseList:
    """Cases newest first, filtered; a unit sees only its own."""
    if actor.role is Role.UNIT:
        if unit is not None and unit != actor.unit:
            raise Forbidden(f"Unit '{actor.unit}' may list only its own cases.")
        unit = actor.unit
    now = datetime.now(UTC)
    page = await gateway.list(
        stage=stage,
        unit=unit,
        category=category,
        overdue=overdue,
        now=now,
        limit=limit,
        offset=offset,
    )
    return CaseList(items=[present_case(case, actor, now) for case in page.items], total=page.total)


@router.get(
    "/{case_id}",
    response_model=CasePublic,
    responses=responses(401, 403, 404, 503),
    summary="Read the live case",
)
async def read_grievance(case_id: str, actor: CurrentActor, gateway: GatewayDep) -> CasePublic:
    """The live case from its workflow."""
    case = await gateway.case(case_id)
    require_reader(actor, case)
    return present_case(case, actor, datetime.now(UTC))


@router.get(
    "/{case_id}/events",
    response_model=list[EventPublic],
    responses=responses(401, 403, 404, 503),
    summary="The case's timeline, oldest first",
)
async def read_events(case_id: str, actor: CurrentActor, gateway: GatewayDep) -> list[EventPublic]:
    """Every event of the case, oldest first."""
    snapshot = await gateway.snapshot(case_id)
    require_reader(actor, snapshot.case)
    return [present_event(event) for event in snapshot.events]
