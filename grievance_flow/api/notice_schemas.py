"""Response bodies of ``GET /v1/notices``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

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


class NoticeList(BaseModel):
    """A page of notices, newest first, and the total that match the filters."""

    items: list[NoticePublic]
    total: int
