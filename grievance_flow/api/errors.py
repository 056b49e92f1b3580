"""The error model: every refusal is ``{"error": Name, "detail": sentence}``.

Domain errors carry their HTTP status; Temporal and database failures are mapped
here and nowhere else. Routes list the statuses they can answer with
:func:`responses`, so the OpenAPI document says what a client must handle.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from grievance_flow.workflows.lifecycle import RefusalKind


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
    """The request is well-formed JSON but cannot be served as asked (422)."""

    status_code = 422
    name = "InvalidRequest"


class Unavailable(ApiError):
    """Temporal, a worker or the database cannot be reached right now (503)."""

    status_code = 503
    name = "Unavailable"


_DESCRIPTIONS = {
    401: "Missing or unknown API key.",
    403: "The key's role or unit may not do this.",
    404: "No such case.",
    409: "Not allowed in the case's current stage.",
    422: "The body or parameters are malformed or name unknown catalogue entries.",
    503: "Temporal, a worker or the database is unreachable; nothing was changed.",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the given error statuses."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


_REFUSALS: dict[str, type[ApiError]] = {
    RefusalKind.FORBIDDEN.value: Forbidden,
    RefusalKind.CONFLICT.value: Conflict,
    RefusalKind.INVALID.value: InvalidRequest,
}

_UNREACHABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


def from_temporal(exc: Exception) -> ApiError | None:
    """Map a Temporal client error to an API error, or None if it is not one we know."""
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
            return _REFUSALS[cause.type](cause.message, name=cause.type)
        return None
    if isinstance(exc, WorkflowQueryFailedError):
        return Unavailable(f"The case could not be read: {exc.message}")
    if isinstance(exc, RPCError):
        if exc.status is RPCStatusCode.NOT_FOUND:
            return NotFound("No such case.")
        if exc.status in _UNREACHABLE:
            return Unavailable(
                f"Temporal did not answer ({exc.status.name.lower()}): {exc.message}"
            )
    return None


def _render(exc: ApiError) -> JSONResponse:
    body = ErrorBody(error=exc.error_name, detail=exc.detail)
    return JSONResponse(status_code=exc.status_code, content=body.model_dump())


def _validation_sentence(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is malformed."


def install_error_handlers(app: FastAPI) -> None:
    """Render every known failure as ``{"error", "detail"}`` with its status."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _render(exc)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return _render(InvalidRequest(_validation_sentence(exc), name="ValidationError"))

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        known = {404: NotFound, 401: Unauthorized, 403: Forbidden, 409: Conflict}
        error = known.get(exc.status_code)
        if error is not None:
            return _render(error(str(exc.detail)))
        body = ErrorBody(error="HTTPError", detail=str(exc.detail))
        return JSONResponse(status_code=exc.status_code, content=body.model_dump())

    async def temporal_error(_: Request, exc: Exception) -> JSONResponse:
        mapped = from_temporal(exc)
        if mapped is None:
            raise exc
        return _render(mapped)

    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        return _render(Unavailable("The read-model database is unreachable."))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for temporal_exc in (RPCError, WorkflowUpdateFailedError, WorkflowQueryFailedError):
        app.add_exception_handler(temporal_exc, temporal_error)
    app.add_exception_handler(OperationalError, database_down)
