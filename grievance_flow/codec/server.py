"""``grievance codec-server``: the Temporal codec protocol for the Web UI and the CLI (SPEC §12).

``POST /decode`` and ``POST /encode`` take and return ``{"payloads": [...]}``
in protobuf JSON (metadata values and data base64), as the Temporal Web UI's
"Codec Server" setting and ``temporal --codec-endpoint`` send them. Only an
``auditor`` or ``admin`` key may use it: ``Authorization: Bearer <key>``
(``temporal ... --codec-auth 'Bearer <key>'``), or the key as the first path
segment (``http://host:port/<key>``), because the Web UI's codec setting is
an endpoint URL and can send no header of its own without an identity
provider. No key: 401; another role's key: 403; the body never reaches the
codec. CORS lets the Web UI's origin (``--ui-origin``) call it from the browser.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from sqlalchemy import Engine
from temporalio.api.common.v1 import Payloads

from grievance_flow.codec.encryption import EncryptionCodec
from grievance_flow.store.keys import resolve_key
from grievance_flow.workflows.contracts import Role

ALLOWED = frozenset({Role.AUDITOR, Role.ADMIN})
MAX_BODY = 8 * 1024 * 1024
"""A request larger than this is refused (a whole history's payloads fit easily)."""


def _error(status: int, name: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": name, "detail": detail}, status_code=status)


def build_codec_app(codec: EncryptionCodec, engine: Engine, *, ui_origins: list[str]) -> FastAPI:
    """The codec server's app: ``codec`` behind the read model's keys."""
    app = FastAPI(title="grievance-flow codec server", docs_url=None, redoc_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=ui_origins,
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        allow_credentials=True,
    )

    async def authorised(request: Request, path_key: str | None) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else path_key
        if not key:
            return _error(401, "Unauthorized", "An auditor or admin key is required.")
        actor = await asyncio.to_thread(resolve_key, engine, key)
        if actor is None:
            return _error(401, "Unauthorized", "Unknown API key.")
        if actor.role not in ALLOWED:
            return _error(
                403, "Forbidden", f"Only auditor and admin keys may use the codec; this key is "
                f"{actor.role.value}."
            )  # fmt: skip
        return None

    async def transform(
        request: Request, path_key: str | None, apply: Callable[[Any], Awaitable[Any]]
    ) -> JSONResponse:
        refused = await authorised(request, path_key)
        if refused is not None:
            return refused
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, "TooLarge", f"At most {MAX_BODY} bytes per request.")
        try:
            payloads = json_format.Parse(body, Payloads())
            done = await apply(payloads.payloads)
        except (json_format.ParseError, UnicodeDecodeError) as exc:
            return _error(422, "InvalidRequest", f'Expected {{"payloads": [...]}}: {exc}')
        except ValueError as exc:  # an unknown key id, or a payload that does not authenticate
            return _error(422, "InvalidPayload", str(exc))
        return JSONResponse(json_format.MessageToDict(Payloads(payloads=done)))

    for prefix in ("", "/{path_key}"):

        async def decode(request: Request, path_key: str | None = None) -> JSONResponse:
            """Decrypt the sealed payloads; others come back unchanged."""
            return await transform(request, path_key, codec.decode)

        async def encode(request: Request, path_key: str | None = None) -> JSONResponse:
            """Encrypt the payloads with the ring's newest key."""
            return await transform(request, path_key, codec.encode)

        app.add_api_route(f"{prefix}/decode", decode, methods=["POST"])
        app.add_api_route(f"{prefix}/encode", encode, methods=["POST"])
    return app
