"""The FastAPI application: app factory and lifespan.

The Temporal client, database engine and catalogue are created once in the
lifespan (or handed in by ``grievance up``, which shares them with its worker),
never at import time and never per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from grievance_flow.api import metrics
from grievance_flow.api.deps import ApiResources
from grievance_flow.api.errors import install_error_handlers
from grievance_flow.api.gateway import CaseGateway
from grievance_flow.api.keyring import KeyRing
from grievance_flow.api.metrics import ApiMetrics, RequestMetrics
from grievance_flow.api.routes import (
    actions,
    audit_key,
    catalogue,
    dashboard,
    grievances,
    health,
    history,
    hotspots,
    keys,
    kpis,
    notices,
    open311,
    overview,
    webhooks,
)
from grievance_flow.audit.signing import VerifyingKey, audit_key_path, read_verifying_key
from grievance_flow.runtime import Domain, connect_temporal, load_domain, open_database
from grievance_flow.settings import Settings

DESCRIPTION = """\
Case management for 12345 citizen hotlines. Every grievance is a durable Temporal
workflow: report → classify → accept → handle → recheck → closed.

Authenticate with `Authorization: Bearer <key>`; a key carries a role
(hotline, dispatcher, unit, verifier, auditor, admin) and, for units, a unit.
Errors are `{"error": Name, "detail": sentence}`.
"""


def published_audit_key(settings: Settings) -> VerifyingKey | None:
    """The public audit key of ``settings`` (its file, or the data dir's), if there is one."""
    path = audit_key_path(settings.audit_key, settings.data_dir)
    return read_verifying_key(path) if path.exists() else None


def build_resources(
    client: Client,
    engine: Engine,
    domain: Domain,
    *,
    task_queue: str,
    webhook_allowed_hosts: str | None = None,
    audit_key: VerifyingKey | None = None,
) -> ApiResources:
    """Bundle already-created resources for :func:`create_app`.

    ``webhook_allowed_hosts`` is ``WEBHOOK_ALLOWED_HOSTS``: a comma list of host
    patterns subscriber URLs must match; None or empty, any host. ``audit_key``
    is the public audit key ``GET /v1/audit/public-key`` publishes.
    """
    hosts = tuple(
        part.strip().lower() for part in (webhook_allowed_hosts or "").split(",") if part.strip()
    )
    return ApiResources(
        client=client,
        engine=engine,
        domain=domain,
        gateway=CaseGateway(client, engine, task_queue=task_queue),
        keyring=KeyRing(engine),
        webhook_allowed_hosts=hosts or None,
        audit_key=audit_key,
    )


def create_app(
    settings: Settings | None = None, *, resources: ApiResources | None = None
) -> FastAPI:
    """Build the API.

    Args:
        settings: Where to connect when the app owns its resources.
        resources: Resources owned by the caller (``grievance up``, tests); the
            app then neither creates nor closes them.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if resources is not None:
            app.state.resources = resources
            yield
            return
        config = settings or Settings()
        domain = load_domain(config.catalogue, config.calendar_overrides)
        engine = open_database(config)
        client = await connect_temporal(config)
        app.state.resources = build_resources(
            client,
            engine,
            domain,
            task_queue=config.task_queue,
            webhook_allowed_hosts=config.webhook_allowed_hosts,
            audit_key=published_audit_key(config),
        )
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="grievance-flow",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    if resources is not None:
        # Also available without the lifespan (e.g. an in-process test transport).
        app.state.resources = resources
    install_error_handlers(app)
    # Added last, so outermost: it counts the status every other layer decided.
    app.state.metrics = ApiMetrics()
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.include_router(metrics.router)
    app.include_router(health.router)
    app.include_router(grievances.router)
    app.include_router(history.router)
    app.include_router(audit_key.router)
    app.include_router(actions.router)
    app.include_router(catalogue.router)
    app.include_router(kpis.router)
    app.include_router(overview.router)
    app.include_router(notices.router)
    app.include_router(webhooks.router)
    app.include_router(keys.router)
    app.include_router(hotspots.router)
    app.include_router(dashboard.router)
    app.mount(open311.PREFIX, open311.build_open311_app(app))
    return app
