"""Open311 GeoReport v2 at ``/open311/v2`` (SPEC §9), in XML and in JSON.

A sub-application mounted by :func:`grievance_flow.api.app.create_app`, so
that every answer under it, refusals included, is an Open311 document in the
format its path asked for: an unknown path is an Open311 404, a malformed
parameter an Open311 400, never ``/v1``'s ``{"error", "detail"}``.

Who may call what: every GET is open, as GeoReport v2 has it, and filing
needs a ``hotline`` key in ``api_key`` (SPEC §9). But a request's
``description``, ``address``, ``lat``/``long`` and ``media_url`` are the
citizen's own words and whereabouts, so they are filled only for a caller
that sends a key (``api_key``, as FixMyStreet does on its GETs, or
``Authorization: Bearer``) of any role but ``unit``; without one they are
empty. Update descriptions are public sentences (``open311/notes.py``) for
everyone. A key that is sent must be valid (403 otherwise).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.exceptions import TemporalError

from grievance_flow.api.deps import ApiResources
from grievance_flow.api.errors import ApiError, from_temporal
from grievance_flow.catalogue.model import Catalogue
from grievance_flow.open311 import forms, params, update_forms
from grievance_flow.open311.documents import Format, render
from grievance_flow.open311.errors import Open311Error, bad_request, error_response
from grievance_flow.open311.requests import RequestDocuments
from grievance_flow.open311.services import definition, services
from grievance_flow.store import idempotency, queries
from grievance_flow.store.open311 import list_requests, list_updates
from grievance_flow.workflows.contracts import (
    Action,
    Actor,
    FileGrievanceInput,
    Location,
    Reporter,
    Role,
    SupplementInput,
    case_id_for,
)

PREFIX = "/open311/v2"
CHANNEL = "open311"
"""The ``channel`` of a case filed through Open311."""

READERS = frozenset({Role.HOTLINE, Role.DISPATCHER, Role.VERIFIER, Role.AUDITOR, Role.ADMIN})
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-03T00:00:00Z"
"""When this endpoint's behaviour last changed (discovery's ``changeset``)."""


def _split(name: str) -> tuple[str, Format]:
    """``services.xml`` → (``services``, XML); an unknown suffix is a 400 in XML."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        raise Open311Error(404, f"No such Open311 document: {name!r} (add .xml or .json).")
    try:
        return stem, Format(suffix.lower())
    except ValueError:
        raise bad_request(f"Format {suffix!r} is not served: use .xml or .json.") from None


def _format_of(path: str) -> Format:
    """The format a failing request asked for, XML when it asked for none we serve."""
    return Format.JSON if path.rstrip("/").lower().endswith(".json") else Format.XML


def _resources(request: Request) -> ApiResources:
    resources: ApiResources = request.app.state.parent.state.resources
    return resources


def _zone(catalogue: Catalogue) -> ZoneInfo:
    return ZoneInfo(catalogue.timezone)


async def _actor(request: Request, api_key: str | None) -> Actor:
    key = api_key
    if not key:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        key = credentials.strip() if scheme.lower() == "bearer" else None
    if not key:
        raise Open311Error(403, "api_key is required.")
    actor = await _resources(request).keyring.actor_for(key)
    if actor is None:
        raise Open311Error(403, "api_key is not a valid key.")
    return actor


def _sent_key(request: Request) -> bool:
    return bool(
        request.query_params.get("api_key", "").strip()
        or request.headers.get("authorization", "").strip()
    )


async def _reader(request: Request) -> Actor | None:
    """The reader whose key came with the GET, or None for an anonymous one.

    Raises:
        Open311Error: 403 for a key that is not valid, or a unit's.
    """
    if not _sent_key(request):
        return None
    actor = await _actor(request, request.query_params.get("api_key"))
    if actor.role not in READERS:
        raise Open311Error(403, f"A {actor.role.value} key may not read Open311 requests.")
    return actor


def build_open311_app(parent: FastAPI) -> FastAPI:
    """The ``/open311/v2`` application, reading ``parent``'s resources."""
    app = FastAPI(
        title="grievance-flow Open311 GeoReport v2",
        version="v2",
        description="Open311 GeoReport v2 with mySociety's update extensions (SPEC §9).",
    )
    app.state.parent = parent

    @app.exception_handler(Open311Error)
    async def open311_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Open311Error)
        return error_response(exc, _format_of(request.url.path))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: Exception) -> Response:
        # From the gateway: Temporal or the database away (503), an unknown case
        # (404), an update the case refuses (409, 422: Open311 says 400).
        assert isinstance(exc, ApiError)
        status = exc.status_code if exc.status_code in (403, 404, 503) else 400
        return error_response(Open311Error(status, exc.detail), _format_of(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: Exception) -> Response:
        return error_response(
            bad_request("The request is malformed."), _format_of(request.url.path)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        sentence = "No such Open311 document." if exc.status_code == 404 else str(exc.detail)
        return error_response(Open311Error(exc.status_code, sentence), _format_of(request.url.path))

    @app.get("/{name}", summary="discovery, services, requests or servicerequestupdates")
    async def document(name: str, request: Request) -> Response:
        stem, fmt = _split(name)
        if stem == "discovery":
            return render("discovery", _discovery(request), fmt)
        if stem == "services":
            return render("services", services(_resources(request).domain.catalogue), fmt)
        if stem == "requests":
            full = await _reader(request) is not None
            return render("service_requests", await _requests(request, full=full), fmt)
        if stem == "servicerequestupdates":
            await _reader(request)  # a key sent must be valid
            return render("service_request_updates", await _updates(request), fmt)
        raise Open311Error(404, f"No such Open311 document: {stem!r}.")

    @app.get("/services/{name}", summary="A service's definition: its attributes")
    async def service_definition(name: str, request: Request) -> Response:
        code, fmt = _split(name)
        catalogue = _resources(request).domain.catalogue
        category = catalogue.categories.get(code)
        if category is None:
            raise Open311Error(404, f"No service with service_code {code!r}.")
        return render("service_definition", definition(catalogue, category), fmt)

    @app.get("/requests/{name}", summary="One request, as a one-element list")
    async def one_request(name: str, request: Request) -> Response:
        case_id, fmt = _split(name)
        full = await _reader(request) is not None
        cases = await _requests_by_id(request, [case_id], full=full)
        return render("service_requests", cases, fmt)

    @app.get("/tokens/{name}", summary="The request a token stands for")
    async def token(name: str, request: Request) -> Response:
        token_id, fmt = _split(name)
        # Filing is synchronous, so a token is the case id: mapping it says nothing more.
        case = await asyncio.to_thread(queries.get_case, _resources(request).engine, token_id)
        if case is None:
            raise Open311Error(404, f"No request for token {token_id!r}.")
        return render("service_requests", [{"service_request_id": case.id, "token": case.id}], fmt)

    @app.post("/{name}", summary="File a request (form-encoded)")
    async def post(name: str, request: Request) -> Response:
        stem, fmt = _split(name)
        if stem == "requests":
            return await _file(request, fmt)
        if stem == "servicerequestupdates":
            return await _supplement(request, fmt)
        raise Open311Error(404, f"Nothing to POST at {stem!r}.")

    return app


def _discovery(request: Request) -> dict[str, Any]:
    # The mount's own path, behind whatever prefix a proxy put before it.
    url = str(request.url.replace(query=""))
    base = url[: url.rindex(PREFIX) + len(PREFIX)]
    return {
        "changeset": CHANGESET,
        "contact": "12345 hotline operations",
        "key_service": "Ask the hotline's administrator for an api_key (a hotline key).",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


async def _requests(request: Request, *, full: bool) -> list[dict[str, Any]]:
    query = request.query_params
    ids = params.comma_list(query, "service_request_id")
    if ids:
        # GeoReport v2: service_request_id overrides every other parameter.
        return await _requests_by_id(request, ids, full=full)
    resources = _resources(request)
    catalogue = resources.domain.catalogue
    window = params.window(query, datetime.now(UTC), _zone(catalogue))
    page = params.page(query)
    cases, _ = await asyncio.to_thread(
        list_requests,
        resources.engine,
        service_codes=params.comma_list(query, "service_code"),
        start=window.start,
        end=window.end,
        status=params.statuses(query),
        limit=page.size,
        offset=page.offset,
    )
    documents = RequestDocuments(catalogue)
    return [documents.request(case, full=full) for case in cases]


async def _requests_by_id(request: Request, ids: list[str], *, full: bool) -> list[dict[str, Any]]:
    resources = _resources(request)
    cases, _ = await asyncio.to_thread(list_requests, resources.engine, ids=ids, limit=len(ids))
    if not cases:
        raise Open311Error(404, "No request with that service_request_id.")
    documents = RequestDocuments(resources.domain.catalogue)
    return [documents.request(case, full=full) for case in cases]


async def _updates(request: Request) -> list[dict[str, Any]]:
    resources = _resources(request)
    catalogue = resources.domain.catalogue
    query = request.query_params
    window = params.window(query, datetime.now(UTC), _zone(catalogue))
    page = params.page(query)
    updates, _ = await asyncio.to_thread(
        list_updates,
        resources.engine,
        start=window.start,
        end=window.end,
        limit=page.size,
        offset=page.offset,
    )
    documents = RequestDocuments(catalogue)
    return [documents.update(update) for update in updates]


async def _posted(request: Request, doing: str) -> tuple[list[tuple[str, str]], Actor]:
    """The form's text fields, in order, and the hotline that posted them.

    Raises:
        Open311Error: 400 for a body that is not a form, 403 unless ``api_key``
            is a hotline key.
    """
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise bad_request(f"POST {doing} is form-encoded (application/x-www-form-urlencoded).")
    try:
        form = await request.form()
    except Exception:  # a body the form parser cannot read at all
        raise bad_request("The form could not be read.") from None
    # Uploaded files (FixMyStreet's photo1...) are not kept: media_url carries photos.
    fields = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    api_key = next((value for name, value in fields if name == "api_key"), None)
    actor = await _actor(request, api_key)
    if actor.role is not Role.HOTLINE:
        raise Open311Error(403, f"api_key must be a hotline key to post {doing}.")
    return fields, actor


async def _file(request: Request, fmt: Format) -> Response:
    fields, actor = await _posted(request, "requests")
    resources = _resources(request)
    catalogue = resources.domain.catalogue
    filing = forms.read_filing(fields, catalogue, _zone(catalogue))
    external_id = forms.external_id_of(fields, request.headers.get("idempotency-key"))
    intake = FileGrievanceInput(
        case_id=case_id_for(external_id),
        external_id=external_id,
        channel=CHANNEL,
        reporter=Reporter(name=filing.name, phone=filing.phone, email=filing.email),
        description=filing.description,
        location=Location(address=filing.address, grid=filing.grid, lat=filing.lat, lon=filing.lon),
        filed_by=actor,
        category_hint=filing.service_code,
        attachments=[filing.media_url] if filing.media_url else [],
        attributes=filing.answers,
    )
    case, _ = await resources.gateway.file(intake)
    return render(
        "service_requests",
        [
            {
                "service_request_id": case.id,
                "service_notice": "诉求已受理，请留意办理进展",
                "account_id": None,
            }
        ],
        fmt,
    )


async def _supplement(request: Request, fmt: Format) -> Response:
    """A client's update of an open request: a ``supplement`` (追加诉求), once per ``update_id``."""
    fields, actor = await _posted(request, "servicerequestupdates")
    resources = _resources(request)
    update = update_forms.read_update(fields, _zone(resources.domain.catalogue))
    key = f"open311-update:{update.update_id}"
    signed = idempotency.fingerprint(
        Action.SUPPLEMENT.value,
        {"note": update.description, "status": update.status, "media": update.media_urls},
        requester=actor.role.value,
    )
    stored = await asyncio.to_thread(idempotency.recall, resources.engine, update.case_id, key)
    if stored is None:
        command = SupplementInput(
            actor=actor,
            note=update.description,
            attachments=update.media_urls,
            source=CHANNEL,
            reference=update.update_id,
            reported_status=update.status,
        )
        try:
            case = await resources.gateway.act(
                update.case_id, Action.SUPPLEMENT, command, update_id=key
            )
        except TemporalError as exc:
            raise from_temporal(exc) from exc
        answer = idempotency.RememberedAnswer(
            action=Action.SUPPLEMENT.value,
            fingerprint=signed,
            status_code=200,
            body={"update_id": f"{case.id}:{case.last_seq}"},
        )
        stored = await asyncio.to_thread(
            idempotency.remember,
            resources.engine,
            update.case_id,
            key,
            answer,
            at=datetime.now(UTC),
        )
    if stored.fingerprint != signed:
        raise bad_request(f"update_id {update.update_id!r} was already used for another update.")
    return render("service_request_updates", [stored.body], fmt)
