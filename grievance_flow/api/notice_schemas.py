"""Response bodies of ``GET /v1/notices``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from grievance_flow.store.notices import DeliveryStatus
from grievance_flow.workflows.contracts import NoticeKind, Role


class NoticePublic(BaseModel):
    """A notice sent to a unit or to the command centre (催办, 提级, 延期审批)."""

    id: str
    case_id: str
    kind: NoticeKind
    recipient_role: Role
    recipient_unit: str | None
    message: str
    at: datetime
    data: dict[str, Any]
    status: DeliveryStatus = Field(
        description="pending (not tried yet), retrying, delivered or failed (given up for good)"
    )
    attempts: int = Field(description="Delivery attempts made so far")
    last_error: str | None = Field(
        description="Why the last failed attempt failed (a status or transport error)"
    )
    last_attempt_at: datetime | None
    delivered_at: datetime | None


class NoticeList(BaseModel):
    """A page of notices, newest first, and the total that match the filters."""

    items: list[NoticePublic]
    total: int
