"""The error model: every refusal is ``{"error": Name, "detail": sentence}``.

Domain errors carry their HTTP status; Temporal and database failures are mapped
here and nowhere else. Routes list the statuses they can answer with
:func:`responses`, so the OpenAPI document says what a client must handle.

SPEC §6: no request, however malformed, gets a 5xx other than 503, and every
error body, 5xx included, has this one shape. So every Temporal client error
maps to a documented status (:func:`from_temporal` is total), an unparsable
body is a 422 like any other malformed body, and :class:`LastResort` renders
whatever still escapes as a 503 ``InternalError``.
"""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    TemporalError,
    TerminatedError,
    WorkflowAlreadyStartedError,
)
from temporalio.exceptions import TimeoutError as TemporalTimeoutError
from temporalio.service import RPCError, RPCStatusCode

from grievance_flow.workflows.lifecycle import RefusalKind

_log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """What every error response carries."""

    error: str
    detail: str


class ApiError(Exception):
    """A refusal with its HTTP status and a sentence saying why."""

    status_code: ClassVar[int] = 500
    name: ClassVar[str] = "Error"

    def __init__(self, detail: str, *, name: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error_name = name or self.name


class Unauthorized(ApiError):
    """No key, or a key we do not know (401)."""

    status_code = 401
    name = "Unauthorized"


class Forbidden(ApiError):
    """The role or unit may not do this (403)."""

    status_code = 403
    name = "Forbidden"


class NotFound(ApiError):
    """No such case or resource (404)."""

    status_code = 404
    name = "NotFound"


class Conflict(ApiError):
    """Not allowed in the case's current state (409)."""

    status_code = 409
    name = "Conflict"


class InvalidRequest(ApiError):
    """The request is malformed, or well-formed but cannot be served as asked (422)."""

    status_code = 422
    name = "InvalidRequest"


class Unavailable(ApiError):
    """Temporal, a worker or the database cannot be reached right now (503)."""

    status_code = 503
    name = "Unavailable"


class InternalError(ApiError):
    """Something failed that no rule foresaw (503, the only 5xx SPEC §6 allows)."""

    status_code = 503
    name = "InternalError"


_DESCRIPTIONS = {
    401: "Missing or unknown API key.",
    403: "The key's role or unit may not do this.",
    404: "No such case.",
    409: "Not allowed in the case's current stage.",
    422: "The body or parameters are malformed (a body that is not a JSON object included), "
    "out of range, or name unknown catalogue entries.",
    503: "Temporal, a worker or the database is unreachable, or the server failed "
    "unexpectedly (`InternalError`); retrying later is safe.",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the given error statuses."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


_REFUSALS: dict[str, type[ApiError]] = {
    RefusalKind.FORBIDDEN.value: Forbidden,
    RefusalKind.CONFLICT.value: Conflict,
    RefusalKind.INVALID.value: InvalidRequest,
}

_MALFORMED = {RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.OUT_OF_RANGE}
"""Temporal refused what we sent (an id or payload beyond its limits): the request's fault."""

_CONFLICTING = {RPCStatusCode.ALREADY_EXISTS, RPCStatusCode.FAILED_PRECONDITION}
"""Temporal refused because of the workflow's state, not the request's shape."""
# Every other status (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
# INTERNAL, UNKNOWN, UNAUTHENTICATED, ...) is Temporal, or our access to it,
# failing: nothing was changed and the client may retry, which is what 503 says.


def _update_failure(exc: WorkflowUpdateFailedError) -> ApiError:
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
        return _REFUSALS[cause.type](cause.message, name=cause.type)
    if isinstance(cause, CancelledError | TerminatedError | TemporalTimeoutError):
        return Conflict("The case ended before the action finished; read the case.")
    if isinstance(cause, ApplicationError):
        # Accepted, then failed in its handler (e.g. the case closed meanwhile):
        # recorded in the history, so the same update id answers the same again.
        return Conflict(f"The case did not apply the action: {cause.message}")
    return Conflict("The case did not apply the action; read the case.")


def from_temporal(exc: TemporalError) -> ApiError:
    """Map any Temporal client error to the API error a client can act on."""
    if isinstance(exc, WorkflowUpdateFailedError):
        return _update_failure(exc)
    if isinstance(exc, WorkflowQueryFailedError):
        return Unavailable(f"The case could not be read: {exc.message}")
    if isinstance(exc, WorkflowQueryRejectedError):
        return Conflict("The case cannot be read in its current state.")
    if isinstance(exc, WorkflowAlreadyStartedError):
        return Conflict("A case with this id already exists.")
    if isinstance(exc, RPCTimeoutOrCancelledError):
        return Unavailable("Temporal did not answer in time; nothing is known to have changed.")
    if isinstance(exc, RPCError):
        if exc.status is RPCStatusCode.NOT_FOUND:
            return NotFound("No such case.")
        if exc.status in _MALFORMED:
            # Temporal's message may quote what was sent; only its status is repeated.
            return InvalidRequest(
                f"Temporal refused the request as malformed ({exc.status.name.lower()})."
            )
        if exc.status in _CONFLICTING:
            return Conflict(f"Temporal refused the request: {exc.message}")
        return Unavailable(f"Temporal did not answer ({exc.status.name.lower()}): {exc.message}")
    return Unavailable(f"Temporal could not serve the request ({type(exc).__name__}).")


def render(exc: ApiError) -> JSONResponse:
    """The response for ``exc``: its status and ``{"error", "detail"}``."""
    body = ErrorBody(error=exc.error_name, detail=exc.detail)
    return JSONResponse(status_code=exc.status_code, content=body.model_dump())


_UNPARSABLE_BODY = "There was an error parsing the body"
"""FastAPI's 400 detail for a body it could not decode."""


def _validation_sentence(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            parts.append("body: not valid JSON")
            continue
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is malformed."


class LastResort:
    """ASGI middleware: an exception no handler took still answers ``{"error", "detail"}``.

    It should never fire. When it does, the log gets the exception's type and
    frames but not its message or locals, which may quote a reporter's data;
    the client gets a reference to quote when reporting it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            _log.error(
                "unexpected %s answering %s %s (reference %s)\n%s",
                type(exc).__name__,
                scope.get("method"),
                scope.get("path"),
                reference,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if started:
                raise
            advice = (
                "try again later."
                if scope.get("method") in ("GET", "HEAD")
                else "it may or may not have been applied, so read the case before trying again."
            )
            error = InternalError(
                f"The server failed unexpectedly (reference {reference}); {advice}"
            )
            await render(error)(scope, receive, send)


def _document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document say what the handlers answer.

    FastAPI documents its own 422 body (``HTTPValidationError``) on every route
    with parameters; ours is :class:`ErrorBody`. Every route with a body can
    answer 422 (the body may not even be JSON), whether or not it says so.
    """
    generate = app.openapi
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                answers = operation.setdefault("responses", {})
                if "requestBody" in operation or "422" in answers:
                    answers["422"] = {
                        "description": _DESCRIPTIONS[422],
                        "content": {"application/json": {"schema": error_ref}},
                    }
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorBody", ErrorBody.model_json_schema())
        for name in ("HTTPValidationError", "ValidationError"):
            # FastAPI's own 422 bodies, now unreferenced unless a route names them.
            if f'"#/components/schemas/{name}"' not in json.dumps(schema["paths"]):
                components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Render every failure as ``{"error", "detail"}`` with a documented status."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return render(exc)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return render(InvalidRequest(_validation_sentence(exc), name="ValidationError"))

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot decode (e.g. bytes that are not
            # UTF-8): as malformed as any other body, so 422 (SPEC §4a).
            detail = str(exc.detail)
            if detail == _UNPARSABLE_BODY:
                detail = "body: not valid JSON (UTF-8 expected)."
            return render(InvalidRequest(detail, name="ValidationError"))
        known = {404: NotFound, 401: Unauthorized, 403: Forbidden, 409: Conflict}
        error = known.get(exc.status_code)
        if error is not None:
            return render(error(str(exc.detail)))
        body = ErrorBody(error="HTTPError", detail=str(exc.detail))
        return JSONResponse(
            status_code=exc.status_code, content=body.model_dump(), headers=exc.headers
        )

    async def temporal_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TemporalError)
        return render(from_temporal(exc))

    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        return render(Unavailable("The read-model database is unreachable."))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(TemporalError, temporal_error)
    app.add_exception_handler(OperationalError, database_down)
    app.add_middleware(LastResort)
    _document_errors(app)
