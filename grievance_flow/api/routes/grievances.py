"""Filing and reading grievances."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from grievance_flow.api.access import require_reader, require_role
from grievance_flow.api.deps import CatalogueDep, CurrentActor, GatewayDep
from grievance_flow.api.errors import Forbidden, InvalidRequest, responses
from grievance_flow.api.presenters import present_case, present_event
from grievance_flow.api.schemas import (
    MAX_INT,
    CaseIdPath,
    CaseList,
    CasePublic,
    EventPublic,
    GrievanceCreate,
    SearchText,
)
from grievance_flow.catalogue.model import Tier
from grievance_flow.workflows.contracts import (
    PROACTIVE_CHANNEL,
    Actor,
    FileGrievanceInput,
    Location,
    Reporter,
    Role,
    Stage,
    case_id_for,
)

EVENTS_PAGE_MAX = 500
"""SPEC §4a: every ``limit`` is 1–500 (the workflow's own page may hold more)."""

router = APIRouter(prefix="/v1/grievances", tags=["grievances"])

FILERS = frozenset({Role.HOTLINE, Role.DISPATCHER})
CALLER_LOOKUP = frozenset({Role.DISPATCHER, Role.VERIFIER, Role.AUDITOR, Role.ADMIN})
"""Who may find cases by the caller's phone: those who may see it (SPEC §1)."""


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
    if body.channel == PROACTIVE_CHANNEL:
        # Reserved: hotspots do not count proactive cases, so a citizen's call
        # filed under it would silently vanish from them.
        raise InvalidRequest(
            f"channel '{PROACTIVE_CHANNEL}' is for cases the command centre opens from a "
            "hotspot: POST /v1/hotspots/open-case."
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


ME = "me"
"""``involving=me``: the unit of the key making the request."""


def _listing_scope(
    actor: Actor, unit: str | None, involving: str | None
) -> tuple[str | None, str | None]:
    """The (``unit``, ``involving``) filters a reader may use.

    A unit sees the cases assigned to it and those it is summoned to (吹哨报到),
    nothing else; ``unit=`` always means "assigned to".
    """
    if involving == ME:
        if actor.role is not Role.UNIT:
            raise InvalidRequest("involving=me names the key's own unit; this key has no unit.")
        involving = actor.unit
    if actor.role is not Role.UNIT:
        return unit, involving
    for asked in (unit, involving):
        if asked is not None and asked != actor.unit:
            raise Forbidden(f"Unit '{actor.unit}' may list only its own cases.")
    if unit is None:
        involving = actor.unit  # by default: assigned to it, or summoned to
    return unit, involving


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
    unit: Annotated[SearchText, Query(description="Only cases assigned to this unit.")] = None,
    involving: Annotated[
        SearchText,
        Query(
            description="Only cases this unit is assigned to or summoned to (`co_units`); "
            "`me` is the unit of a unit key."
        ),
    ] = None,
    category: SearchText = None,
    overdue: bool | None = None,
    caller: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=32,
            pattern=r"^[0-9+\- ]+$",
            description="Cases filed from this phone (重复来电): dispatcher, verifier, auditor, "
            "admin. Looked up by a keyed hash: the read model keeps no phone in clear.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> CaseList:
    """Cases newest first, filtered. A unit sees the cases assigned to it and those
    it is summoned to (``involving`` its own unit), unless it asks for ``unit=``."""
    unit, involving = _listing_scope(actor, unit, involving)
    if caller is not None:
        require_role(actor, CALLER_LOOKUP, "look cases up by the caller's phone")
    now = datetime.now(UTC)
    page = await gateway.list(
        stage=stage,
        unit=unit,
        involving=involving,
        category=category,
        overdue=overdue,
        caller=caller,
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
async def read_grievance(
    case_id: CaseIdPath, actor: CurrentActor, gateway: GatewayDep
) -> CasePublic:
    """The live case from its workflow."""
    case = await gateway.case(case_id)
    require_reader(actor, case)
    return present_case(case, actor, datetime.now(UTC))


NEXT_PAGE_HEADER = "X-Next-After-Seq"


@router.get(
    "/{case_id}/events",
    response_model=list[EventPublic],
    responses={
        200: {
            "description": "One page of the timeline, oldest first. When more events follow, "
            f'`Link: <…?after_seq=N&limit=L>; rel="next"` and `{NEXT_PAGE_HEADER}: N` say '
            "where the next page starts; without them this is the last page.",
            "headers": {
                "Link": {
                    "description": 'The next page (`rel="next"`), when there is one.',
                    "schema": {"type": "string"},
                },
                NEXT_PAGE_HEADER: {
                    "description": "The `after_seq` of the next page, when there is one.",
                    "schema": {"type": "integer"},
                },
            },
        },
        **responses(401, 403, 404, 422, 503),
    },
    summary="The case's timeline, oldest first",
)
async def read_events(
    case_id: CaseIdPath,
    actor: CurrentActor,
    gateway: GatewayDep,
    request: Request,
    response: Response,
    after_seq: Annotated[
        int, Query(ge=0, le=MAX_INT, description="Only events with a higher `seq`.")
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=EVENTS_PAGE_MAX, description="At most this many events.")
    ] = EVENTS_PAGE_MAX,
) -> list[EventPublic]:
    """The case's events after ``after_seq``, oldest first, at most ``limit`` of them
    (a case of fewer than 1,000 events comes whole in the first page)."""
    case = await gateway.case(case_id)
    require_reader(actor, case)
    page = await gateway.timeline(case_id, after_seq=after_seq, limit=limit)
    if page.events and page.events[-1].seq < page.last_seq:
        following = page.events[-1].seq
        url = request.url.include_query_params(after_seq=following, limit=limit)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
        response.headers[NEXT_PAGE_HEADER] = str(following)
    return [present_event(event) for event in page.events]
