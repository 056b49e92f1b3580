"""Bodies of the admin key API (SPEC §7): ``GET/POST /v1/keys``, ``DELETE /v1/keys/{key_id}``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from grievance_flow.workflows.contracts import Role

Holder = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class KeyCreate(BaseModel):
    """A key to issue: its role, for a unit key the unit, and who holds it."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    unit: str | None = Field(default=None, max_length=64)
    holder: Holder = Field(description="The person or desk the key is issued to")


class KeyPublic(BaseModel):
    """A key as listed: never its secret (only its hash is stored)."""

    key_id: str
    role: Role
    unit: str | None
    holder: str | None
    created_at: datetime
    revoked_at: datetime | None


class KeyIssued(KeyPublic):
    """A key just issued: ``key`` is shown this once and cannot be shown again."""

    key: str
