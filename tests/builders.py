"""Test data shared by workflow, API and store tests."""

from __future__ import annotations

import uuid

from grievance_flow.workflows.contracts import (
    Actor,
    FileGrievanceInput,
    Location,
    Reporter,
    Role,
    case_id_for,
)

HOTLINE = Actor(Role.HOTLINE)
DISPATCHER = Actor(Role.DISPATCHER)
VERIFIER = Actor(Role.VERIFIER)

VENDING_TEXT = "小区门口每天晚上都有流动摊贩占道经营，堵住了人行道"
"""Clear, of an auto-dispatch category: goes straight to the grid."""

CASE_TEXT = "隔壁工地夜间施工噪音很大，吵得人睡不着"
"""Clear, of a category a dispatcher dispatches: waits in classify."""
CASE_CATEGORY = "city.night-construction"


def unit(unit_id: str) -> Actor:
    """A unit's actor."""
    return Actor(Role.UNIT, unit_id)


def new_external_id() -> str:
    """A unique hotline id, so tests never collide on the idempotency key."""
    return f"T-{uuid.uuid4().hex[:12]}"


def intake(
    *,
    description: str = CASE_TEXT,
    grid: str = "grid-1",
    external_id: str | None = None,
    category_hint: str | None = None,
) -> FileGrievanceInput:
    """A grievance as the hotline would file it."""
    external = external_id or new_external_id()
    return FileGrievanceInput(
        case_id=case_id_for(external),
        external_id=external,
        channel="phone",
        reporter=Reporter(name="王女士", phone="13812345678"),
        description=description,
        location=Location(address="湖滨路12号", grid=grid),
        filed_by=HOTLINE,
        category_hint=category_hint,
    )
