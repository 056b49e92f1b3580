"""FastAPI dependencies, as ``Annotated`` aliases routes declare in their signatures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from temporalio.client import Client

from grievance_flow.api.errors import Unauthorized
from grievance_flow.api.gateway import CaseGateway
from grievance_flow.api.keyring import KeyRing
from grievance_flow.audit.signing import VerifyingKey
from grievance_flow.catalogue.model import Catalogue
from grievance_flow.runtime import Domain
from grievance_flow.workflows.contracts import Actor


@dataclass
class ApiResources:
    """What the API holds for its whole life: created once in the lifespan."""

    client: Client
    engine: Engine
    domain: Domain
    gateway: CaseGateway
    keyring: KeyRing
    webhook_allowed_hosts: tuple[str, ...] | None = None
    """``WEBHOOK_ALLOWED_HOSTS`` as patterns (``*.example.cn``); None: any host."""
    audit_key: VerifyingKey | None = None
    """The public half of the system's audit key (SPEC §12), or None without one."""


# Every dependency here is ``async def``, though none awaits: FastAPI runs a
# plain ``def`` dependency in its thread pool, and those hops (four or five per
# request) were about two fifths of the API's CPU under load (README, "Performance").


async def _resources(request: Request) -> ApiResources:
    resources: ApiResources = request.app.state.resources
    return resources


ResourcesDep = Annotated[ApiResources, Depends(_resources)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`.")


async def _current_actor(
    resources: ResourcesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("An API key is required: send 'Authorization: Bearer <key>'.")
    actor = await resources.keyring.actor_for(credentials.credentials)
    if actor is None:
        raise Unauthorized("Unknown API key.")
    return actor


CurrentActor = Annotated[Actor, Depends(_current_actor)]


async def _gateway(resources: ResourcesDep) -> CaseGateway:
    return resources.gateway


async def _catalogue(resources: ResourcesDep) -> Catalogue:
    return resources.domain.catalogue


async def _engine(resources: ResourcesDep) -> Engine:
    return resources.engine


GatewayDep = Annotated[CaseGateway, Depends(_gateway)]
CatalogueDep = Annotated[Catalogue, Depends(_catalogue)]
EngineDep = Annotated[Engine, Depends(_engine)]
"""The read-model engine; call store functions on it via ``asyncio.to_thread``."""
