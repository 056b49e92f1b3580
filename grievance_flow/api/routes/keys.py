"""The admin key API (SPEC §7): list, issue and revoke API keys."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CatalogueDep, CurrentActor, EngineDep
from grievance_flow.api.errors import InvalidRequest, NotFound, responses
from grievance_flow.api.key_schemas import KeyCreate, KeyIssued, KeyPublic
from grievance_flow.store.keys import create_key, find_key, key_id_for, list_keys, revoke_key
from grievance_flow.store.models import ApiKey
from grievance_flow.workflows.contracts import Role

router = APIRouter(prefix="/v1/keys", tags=["keys"])

ADMINS = frozenset({Role.ADMIN})

KeyIdPath = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_]+$")]


def _public(key: ApiKey) -> KeyPublic:
    return KeyPublic(
        key_id=key.key_id,
        role=Role(key.role),
        unit=key.unit,
        holder=key.label or None,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


@router.get(
    "",
    response_model=list[KeyPublic],
    responses=responses(401, 403, 503),
    summary="Every key, revoked ones included",
)
async def read_keys(actor: CurrentActor, engine: EngineDep) -> list[KeyPublic]:
    """Keys oldest first, with their holders; never a secret."""
    require_role(actor, ADMINS, "manage keys")
    return [_public(key) for key in await asyncio.to_thread(list_keys, engine)]


@router.post(
    "",
    response_model=KeyIssued,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 422, 503),
    summary="Issue a key (the secret is shown once)",
)
async def issue_key(
    body: KeyCreate, actor: CurrentActor, engine: EngineDep, catalogue: CatalogueDep
) -> KeyIssued:
    """A new key for ``role`` (and ``unit``), held by ``holder``."""
    require_role(actor, ADMINS, "manage keys")
    if body.role is Role.SYSTEM:
        raise InvalidRequest("No key may carry the system role.")
    if body.role is Role.UNIT and (body.unit is None or body.unit not in catalogue.units):
        raise InvalidRequest(f"A unit key needs a unit of the catalogue, got {body.unit!r}.")
    if body.role is not Role.UNIT and body.unit is not None:
        raise InvalidRequest(f"Only unit keys carry a unit, not {body.role.value} keys.")
    secret = await asyncio.to_thread(
        create_key, engine, role=body.role, unit=body.unit, label=body.holder
    )
    issued = await asyncio.to_thread(find_key, engine, key_id_for(secret))
    assert issued is not None
    return KeyIssued(**_public(issued).model_dump(), key=secret)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(401, 403, 404, 503),
    summary="Revoke a key: refused from its next request on",
)
async def delete_key(key_id: KeyIdPath, actor: CurrentActor, engine: EngineDep) -> Response:
    """Revoke the key; revoking it again changes nothing (204)."""
    require_role(actor, ADMINS, "manage keys")
    if await asyncio.to_thread(revoke_key, engine, key_id) is None:
        raise NotFound(f"No key with id '{key_id}'.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
