"""``GET /v1/audit/public-key``: the key exported histories are signed with (SPEC §12)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from grievance_flow.api.deps import ResourcesDep
from grievance_flow.api.errors import NotFound, responses
from grievance_flow.audit.signing import ALGORITHM

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class AuditPublicKey(BaseModel):
    """The system's audit public key, to verify signed bundles with."""

    algorithm: str = Field(description=ALGORITHM)
    key_id: str = Field(description="As a bundle's signature names it: ed25519:<16 hex>")
    public_key: str = Field(description="The 32 raw bytes, base64")
    pem: str = Field(description="SubjectPublicKeyInfo PEM (grievance audit verify --public-key)")


@router.get(
    "/public-key",
    response_model=AuditPublicKey,
    responses=responses(404, 503),
    summary="The audit key's public half (no key needed: it is public)",
)
async def read_audit_public_key(resources: ResourcesDep) -> AuditPublicKey:
    """Published so anyone holding a bundle can check it was signed by this system."""
    key = resources.audit_key
    if key is None:
        raise NotFound("This system has no audit key: its exports are not signed.")
    return AuditPublicKey(
        algorithm=ALGORITHM, key_id=key.key_id, public_key=key.raw_base64(), pem=key.pem()
    )
