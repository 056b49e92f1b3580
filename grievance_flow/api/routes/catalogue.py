"""``GET /v1/catalogue``: the units, categories and SLA classes cases are routed by.

Beside the catalogue file's own sections it reports ``calendar``: which data
serves each year's working days, and the years ahead with no official 调休
arrangement loaded. That section is a report, not part of the file format;
the loader ignores it, so the answer saved as a file loads as this catalogue.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from grievance_flow.api.calendar_schemas import CalendarCoveragePublic, CalendarTodayDep
from grievance_flow.api.deps import CurrentActor, ResourcesDep
from grievance_flow.api.errors import responses
from grievance_flow.catalogue.dump import to_data
from grievance_flow.deadlines.coverage import calendar_coverage

router = APIRouter(prefix="/v1", tags=["catalogue"])


@router.get("/catalogue", responses=responses(401), summary="The dispatch catalogue")
async def read_catalogue(
    actor: CurrentActor, resources: ResourcesDep, today: CalendarTodayDep
) -> dict[str, Any]:
    """Units (a tree of tiers A–D), SLA classes, categories and policy, in the file's shape.

    Plus ``calendar``: per year, the source of its working days (chinese-calendar,
    holidays or weekends) and whether an official 调休 arrangement is loaded, and
    a warning for each year within the next 60 days that has none.
    """
    del actor  # any role may read it; the key only has to be valid
    data = to_data(resources.domain.catalogue)
    coverage = calendar_coverage(resources.domain.calendar, today)
    data["calendar"] = CalendarCoveragePublic.of(coverage).model_dump(mode="json")
    return data
