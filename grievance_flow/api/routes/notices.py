"""``GET /v1/notices``: the chases, escalations and extension decisions sent."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CurrentActor, EngineDep
from grievance_flow.api.errors import Forbidden, responses
from grievance_flow.api.notice_schemas import NoticeList, NoticePublic
from grievance_flow.api.schemas import SearchText
from grievance_flow.store.notices import DeliveryStatus, NoticeDelivery, list_deliveries
from grievance_flow.workflows.contracts import Role

router = APIRouter(prefix="/v1", tags=["notices"])

MAX_OFFSET = 2_147_483_647
"""The largest ``offset`` accepted (a 32-bit integer, which every database holds)."""

READERS = frozenset({Role.UNIT, Role.HOTLINE, Role.DISPATCHER, Role.AUDITOR, Role.ADMIN})
"""Units and the hotline read their own notices; the command centre and inspectors read all."""


@router.get(
    "/notices",
    response_model=NoticeList,
    responses=responses(401, 403, 422, 503),
    summary="Notices and how their delivery stands (催办、提级、延期审批)",
)
async def read_notices(
    actor: CurrentActor,
    engine: EngineDep,
    case_id: SearchText = None,
    unit: SearchText = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    # Bounded so no offset reaches the database as an integer it cannot hold.
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> NoticeList:
    """Notices newest first, each with how its delivery stands. A unit and the hotline
    see only those addressed to them; dispatcher, auditor and admin see all, optionally
    those to one ``unit`` or case. ``status=failed`` lists the ones given up on."""
    require_role(actor, READERS, "read notices")
    role: Role | None = None
    if actor.role is Role.UNIT:
        if unit is not None and unit != actor.unit:
            raise Forbidden(f"Unit '{actor.unit}' may read only its own notices.")
        unit, role = actor.unit, Role.UNIT
    elif actor.role is Role.HOTLINE:
        # The hotline is told when a merged case closes, to call its reporters back.
        if unit is not None:
            raise Forbidden("The hotline reads only the notices addressed to it.")
        role = Role.HOTLINE
    items, total = await asyncio.to_thread(
        lambda: list_deliveries(
            engine,
            unit=unit,
            role=role,
            case_id=case_id,
            status=status,
            limit=limit,
            offset=offset,
        )
    )
    return NoticeList(items=[_present(delivery) for delivery in items], total=total)


def _present(delivery: NoticeDelivery) -> NoticePublic:
    notice = delivery.notice
    return NoticePublic(
        id=notice.id,
        case_id=notice.case_id,
        kind=notice.kind,
        recipient_role=notice.recipient_role,
        recipient_unit=notice.recipient_unit,
        message=notice.message,
        at=notice.at,
        data=notice.data,
        status=delivery.status,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        last_attempt_at=delivery.last_attempt_at,
        delivered_at=delivery.delivered_at,
    )
