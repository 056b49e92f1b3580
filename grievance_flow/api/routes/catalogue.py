"""``GET /v1/catalogue``: the units, categories and SLA classes cases are routed by."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from grievance_flow.api.deps import CatalogueDep, CurrentActor
from grievance_flow.api.errors import responses
from grievance_flow.catalogue.dump import to_data

router = APIRouter(prefix="/v1", tags=["catalogue"])


@router.get("/catalogue", responses=responses(401), summary="The dispatch catalogue")
async def read_catalogue(actor: CurrentActor, catalogue: CatalogueDep) -> dict[str, Any]:
    """Units (a tree of tiers A–D), SLA classes, categories and policy, in the file's shape."""
    del actor  # any role may read it; the key only has to be valid
    return to_data(catalogue)
