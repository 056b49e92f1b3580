"""The grievance the in-process benchmarks file: one that waits in classify."""

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

WAITING_TEXT = "隔壁工地夜间施工噪音很大，吵得人睡不着"
"""A clear complaint of a category a dispatcher dispatches: it stays in classify."""


def waiting_intake(prefix: str, *, grid: str = "grid-1") -> FileGrievanceInput:
    """A new grievance filed by the hotline, its external id ``<prefix>-<random>``."""
    external = f"{prefix}-{uuid.uuid4().hex[:12]}"
    return FileGrievanceInput(
        case_id=case_id_for(external),
        external_id=external,
        channel="phone",
        reporter=Reporter(name="测试", phone="13800000000"),
        description=WAITING_TEXT,
        location=Location(address="测试路1号", grid=grid),
        filed_by=Actor(Role.HOTLINE),
    )
