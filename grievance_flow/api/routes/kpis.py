"""KPIs and the unit ranking (SPEC §11), as JSON or, with ``Accept: text/csv``, CSV."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CatalogueDep, CurrentActor, EngineDep
from grievance_flow.api.errors import Forbidden, InvalidRequest, responses
from grievance_flow.api.kpi_schemas import (
    KpiItem,
    KpiReport,
    Ranking,
    RankingItem,
    RankingWeightsPublic,
    ReportRange,
)
from grievance_flow.catalogue.model import Catalogue
from grievance_flow.reports.period import (
    Period,
    PeriodError,
    current_month,
    month_period,
    period_between,
)
from grievance_flow.reports.ranking import rank_units
from grievance_flow.reports.table import (
    KPI_FIELDS,
    RANKING_FIELDS,
    kpi_record,
    ranking_record,
    to_csv,
)
from grievance_flow.store.kpis import KpiGroup, KpiQuery, kpi_rows
from grievance_flow.workflows.contracts import Actor, Role

router = APIRouter(prefix="/v1/kpis", tags=["kpis"])

READERS = frozenset({Role.DISPATCHER, Role.AUDITOR, Role.ADMIN, Role.UNIT})
"""A unit reads only its own rows."""

CSV = "text/csv"

Bound = Annotated[
    str | None,
    Query(
        max_length=40,
        description="A date (YYYY-MM-DD, local midnight) or an ISO datetime; "
        "naive values are in the catalogue's time zone",
    ),
]
Code = Annotated[str | None, Query(max_length=64)]


def _wants_csv(request: Request) -> bool:
    return CSV in request.headers.get("accept", "")


def _scope(actor: Actor, unit: str | None, catalogue: Catalogue) -> str | None:
    """The unit filter a reader may use: a unit key is held to its own unit."""
    if actor.role is Role.UNIT:
        if unit is not None and unit != actor.unit:
            raise Forbidden(f"Unit '{actor.unit}' may read only its own KPIs.")
        return actor.unit
    if unit is not None and unit not in catalogue.units:
        raise InvalidRequest(f"unit '{unit}' is not in the catalogue.")
    return unit


def _range(period: Period, catalogue: Catalogue) -> ReportRange:
    tz = catalogue.timezone_info
    return ReportRange(
        from_=period.start.astimezone(tz), to=period.end.astimezone(tz), timezone=catalogue.timezone
    )


def _csv(records: list[dict[str, Any]], fields: tuple[str, ...], filename: str) -> Response:
    return Response(
        content=to_csv(records, fields),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "",
    response_model=KpiReport,
    responses={
        200: {"content": {CSV: {}}, "description": "The same items as CSV"},
        **responses(401, 403, 422, 503),
    },
    summary="KPIs per unit, category, grid or day (考核指标)",
)
async def read_kpis(
    request: Request,
    actor: CurrentActor,
    engine: EngineDep,
    catalogue: CatalogueDep,
    start: Annotated[Bound, Query(alias="from")] = None,
    end: Annotated[Bound, Query(alias="to")] = None,
    unit: Code = None,
    category: Code = None,
    group_by: KpiGroup = KpiGroup.UNIT,
) -> Any:
    """Over the cases filed in ``[from, to)`` (default: the last 30 local days),
    one row per group with every rate of SPEC §11 and the counts behind it."""
    require_role(actor, READERS, "read KPIs")
    unit = _scope(actor, unit, catalogue)
    if category is not None and category not in catalogue.categories:
        raise InvalidRequest(f"category '{category}' is not in the catalogue.")
    tz = catalogue.timezone_info
    try:
        period = period_between(start, end, tz, now=datetime.now(UTC))
        query = KpiQuery(
            start=period.start,
            end=period.end,
            group_by=group_by,
            tz=tz,
            unit=unit,
            category=category,
        )
    except ValueError as err:  # PeriodError, or a range too long to list by day
        raise InvalidRequest(str(err)) from None
    rows = await asyncio.to_thread(kpi_rows, engine, query)
    records = [kpi_record(row, group_by, catalogue) for row in rows]
    if _wants_csv(request):
        day = period.start.astimezone(tz).date().isoformat()
        return _csv(records, KPI_FIELDS, f"kpis-{group_by.value}-{day}.csv")
    return KpiReport(
        group_by=group_by,
        range=_range(period, catalogue),
        items=[KpiItem(**record) for record in records],
    )


@router.get(
    "/ranking",
    response_model=Ranking,
    responses={
        200: {"content": {CSV: {}}, "description": "The same items as CSV"},
        **responses(401, 403, 422, 503),
    },
    summary="Units ranked by a weighted score of 响应率, 解决率 and 满意率 (考核排名)",
)
async def read_ranking(
    request: Request,
    actor: CurrentActor,
    engine: EngineDep,
    catalogue: CatalogueDep,
    period: Annotated[str, Query(pattern="^month$", description="Only `month` for now")] = "month",
    month: Annotated[
        str | None, Query(max_length=7, description="YYYY-MM; default: the current month")
    ] = None,
) -> Any:
    """Units with cases filed in the local month, best first. A unit key gets its
    own line only, ranked among all."""
    require_role(actor, READERS, "read the ranking")
    tz = catalogue.timezone_info
    chosen = month or current_month(tz, now=datetime.now(UTC))
    try:
        span = month_period(chosen, tz)
    except PeriodError as err:
        raise InvalidRequest(str(err)) from None
    query = KpiQuery(start=span.start, end=span.end, group_by=KpiGroup.UNIT, tz=tz)
    weights = catalogue.policy.ranking_weights
    ranked = rank_units(await asyncio.to_thread(kpi_rows, engine, query), weights)
    if actor.role is Role.UNIT:
        ranked = [place for place in ranked if place.row.key == actor.unit]
    records = [ranking_record(place, catalogue) for place in ranked]
    if _wants_csv(request):
        return _csv(records, RANKING_FIELDS, f"ranking-{chosen}.csv")
    return Ranking(
        period=period,
        month=chosen,
        range=_range(span, catalogue),
        weights=RankingWeightsPublic(
            response=weights.response,
            resolution=weights.resolution,
            satisfaction=weights.satisfaction,
        ),
        items=[RankingItem(**record) for record in records],
    )
