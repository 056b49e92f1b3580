"""The codec server: auditor and admin keys only, the Temporal codec protocol, CORS for the UI."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy import Engine
from temporalio.api.common.v1 import Payload, Payloads

from grievance_flow.codec.encryption import ENCODING, EncryptionCodec
from grievance_flow.codec.keys import ensure_ring_file, read_ring
from grievance_flow.codec.server import build_codec_app
from grievance_flow.store.keys import create_key
from grievance_flow.workflows.contracts import Role

UI = "http://127.0.0.1:8233"
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"phone":"13812345678"}')


def body(*payloads: Payload) -> dict[str, object]:
    return json_format.MessageToDict(Payloads(payloads=list(payloads)))


@pytest.fixture
async def served(
    sqlite_engine: Engine, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, EncryptionCodec]]:
    codec = EncryptionCodec(read_ring(ensure_ring_file(tmp_path)))
    app = build_codec_app(codec, sqlite_engine, ui_origins=[UI])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as http:
        yield http, codec


def bearer(engine: Engine, role: Role, unit: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(engine, role=role, unit=unit)}"}


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
async def test_an_auditor_or_admin_decodes_what_the_codec_sealed(
    served: tuple[httpx.AsyncClient, EncryptionCodec], sqlite_engine: Engine, role: Role
) -> None:
    http, codec = served
    (sealed,) = await codec.encode([PLAIN])
    response = await http.post("/decode", json=body(sealed), headers=bearer(sqlite_engine, role))
    assert response.status_code == 200, response.text
    (opened,) = json_format.ParseDict(response.json(), Payloads()).payloads
    assert opened == PLAIN


async def test_encode_seals_and_a_plain_payload_decodes_unchanged(
    served: tuple[httpx.AsyncClient, EncryptionCodec], sqlite_engine: Engine
) -> None:
    http, _ = served
    auditor = bearer(sqlite_engine, Role.AUDITOR)
    encoded = await http.post("/encode", json=body(PLAIN), headers=auditor)
    (sealed,) = json_format.ParseDict(encoded.json(), Payloads()).payloads
    assert sealed.metadata["encoding"] == ENCODING
    decoded = await http.post("/decode", json=body(sealed, PLAIN), headers=auditor)
    assert json_format.ParseDict(decoded.json(), Payloads()).payloads == [PLAIN, PLAIN]


async def test_the_key_may_come_as_the_endpoints_first_path_segment(
    served: tuple[httpx.AsyncClient, EncryptionCodec], sqlite_engine: Engine
) -> None:
    http, codec = served
    key = create_key(sqlite_engine, role=Role.AUDITOR, unit=None)
    (sealed,) = await codec.encode([PLAIN])
    response = await http.post(f"/{key}/decode", json=body(sealed))
    assert response.status_code == 200
    assert json_format.ParseDict(response.json(), Payloads()).payloads == [PLAIN]


async def test_no_key_is_401_and_a_unit_key_403_and_nothing_is_decoded(
    served: tuple[httpx.AsyncClient, EncryptionCodec], sqlite_engine: Engine
) -> None:
    http, codec = served
    (sealed,) = await codec.encode([PLAIN])
    missing = await http.post("/decode", json=body(sealed))
    assert (missing.status_code, missing.json()["error"]) == (401, "Unauthorized")
    unknown = await http.post("/decode", json=body(sealed), headers={"Authorization": "Bearer x"})
    assert unknown.status_code == 401
    for role, unit in ((Role.UNIT, "grid-1"), (Role.DISPATCHER, None), (Role.HOTLINE, None)):
        refused = await http.post(
            "/decode", json=body(sealed), headers=bearer(sqlite_engine, role, unit)
        )
        assert refused.status_code == 403, role
        assert "13812345678" not in refused.text


async def test_a_malformed_body_or_an_altered_payload_says_why(
    served: tuple[httpx.AsyncClient, EncryptionCodec], sqlite_engine: Engine
) -> None:
    http, codec = served
    auditor = bearer(sqlite_engine, Role.AUDITOR)
    malformed = await http.post("/decode", content=b"[1, 2]", headers=auditor)
    assert (malformed.status_code, malformed.json()["error"]) == (422, "InvalidRequest")
    (sealed,) = await codec.encode([PLAIN])
    altered = body(sealed)
    data = bytearray(base64.b64decode(altered["payloads"][0]["data"]))  # type: ignore[index]
    data[-1] ^= 1
    altered["payloads"][0]["data"] = base64.b64encode(bytes(data)).decode()  # type: ignore[index]
    response = await http.post("/decode", json=altered, headers=auditor)
    assert response.status_code == 422
    assert "does not authenticate" in response.json()["detail"]


async def test_the_web_uis_origin_may_call_it_from_the_browser(
    served: tuple[httpx.AsyncClient, EncryptionCodec],
) -> None:
    http, _ = served
    preflight = await http.options(
        "/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == UI
    other = await http.options(
        "/decode",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in other.headers
