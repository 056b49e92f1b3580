"""SPEC §6: no request, however malformed, gets a 5xx but 503; every error is {error, detail}."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    TemporalError,
    WorkflowAlreadyStartedError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from grievance_flow.api.app import build_resources, create_app
from grievance_flow.api.errors import from_temporal
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.store.keys import create_key
from grievance_flow.workflows.contracts import Role
from grievance_flow.workflows.lifecycle import RefusalKind
from tests.api.conftest import Api
from tests.api.helpers import file_case

PERSONAL = ("王" + "女士", "138" + "12345678", "湖滨路" + "12号")
"""A reporter's name, phone and address, assembled so no source line quotes them."""

HUGE = 2**63  # beyond SQLite's INTEGER: the driver raised OverflowError (a bare 500)


def assert_error(response: httpx.Response, status: int, name: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["detail"], body
    if name is not None:
        assert body["error"] == name, body


@pytest.mark.parametrize(
    "params",
    [
        {"offset": HUGE},
        {"offset": 2_147_483_648},
        {"offset": -1},
        {"limit": HUGE},
        {"limit": 501},
        {"offset": "1e9"},
    ],
)
async def test_integers_out_of_range_in_a_list_are_unprocessable(
    api: Api, params: dict[str, Any]
) -> None:
    response = await api.http.get("/v1/grievances", params=params, headers=api.as_(Role.AUDITOR))
    assert_error(response, 422, "ValidationError")


async def test_the_largest_offset_is_an_empty_page(api: Api) -> None:
    response = await api.http.get(
        "/v1/grievances", params={"offset": 2_147_483_647}, headers=api.as_(Role.AUDITOR)
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"reason": "\xff"}', "application/json"),  # not UTF-8: FastAPI said 400
        (b"\xff", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b'{"reason": "unterminated', "application/json"),
        (b"[]", "application/json"),
        (b'"a string"', "application/json"),
        (b"42", "application/json"),
        (b"null", "application/json"),
        (b"reason=x", "application/x-www-form-urlencoded"),
        (b"reason", "text/plain"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_unprocessable(
    api: Api, content: bytes, content_type: str
) -> None:
    case = await _open_case(api)
    response = await api.http.post(
        f"/v1/grievances/{case}/withdraw",
        content=content,
        headers={**api.as_(Role.HOTLINE), "Content-Type": content_type},
    )
    assert_error(response, 422, "ValidationError")
    intake = await api.http.post(
        "/v1/grievances",
        content=content,
        headers={**api.as_(Role.HOTLINE), "Content-Type": content_type},
    )
    assert_error(intake, 422, "ValidationError")


_cases: dict[str, str] = {}


async def _open_case(api: Api) -> str:
    if "open" not in _cases:
        _cases["open"] = (await file_case(api))["id"]
    return _cases["open"]


async def test_an_id_temporal_refuses_is_not_a_server_error(api: Api) -> None:
    # Temporal refuses a workflow id beyond its length limit with INVALID_ARGUMENT,
    # which used to escape as a bare 500.
    too_long = "grievance-" + "x" * 2000
    for response in (
        await api.http.get(f"/v1/grievances/{too_long}", headers=api.as_(Role.AUDITOR)),
        await api.http.get(f"/v1/grievances/{too_long}/events", headers=api.as_(Role.AUDITOR)),
        await api.http.post(
            f"/v1/grievances/{too_long}/supervise",
            json={"note": "督办"},
            headers=api.as_(Role.DISPATCHER),
        ),
    ):
        assert response.status_code in (404, 422), response.text
        assert set(response.json()) == {"error", "detail"}


def _rpc(status: RPCStatusCode) -> RPCError:
    return RPCError(f"server says {status.name}", status, b"")


def _update_failed(cause: BaseException) -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(cause)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (_update_failed(ApplicationError("refused", type=RefusalKind.CONFLICT.value)), 409),
        (_update_failed(ApplicationError("no", type=RefusalKind.FORBIDDEN.value)), 403),
        (_update_failed(ApplicationError("bad", type=RefusalKind.INVALID.value)), 422),
        (_update_failed(ApplicationError("workflow completed", type="SomethingElse")), 409),
        (_update_failed(CancelledError("cancelled")), 409),
        (_update_failed(RuntimeError("no cause we know")), 409),
        (WorkflowQueryFailedError("query broke"), 503),
        (WorkflowQueryRejectedError(None), 409),
        (WorkflowAlreadyStartedError("grievance-1", "GrievanceWorkflow"), 409),
        (WorkflowUpdateRPCTimeoutOrCancelledError(), 503),
        (_rpc(RPCStatusCode.NOT_FOUND), 404),
        (_rpc(RPCStatusCode.INVALID_ARGUMENT), 422),
        (_rpc(RPCStatusCode.OUT_OF_RANGE), 422),
        (_rpc(RPCStatusCode.ALREADY_EXISTS), 409),
        (_rpc(RPCStatusCode.FAILED_PRECONDITION), 409),
        *[
            (_rpc(status), 503)
            for status in (
                RPCStatusCode.UNAVAILABLE,
                RPCStatusCode.DEADLINE_EXCEEDED,
                RPCStatusCode.CANCELLED,
                RPCStatusCode.RESOURCE_EXHAUSTED,
                RPCStatusCode.ABORTED,
                RPCStatusCode.INTERNAL,
                RPCStatusCode.UNKNOWN,
                RPCStatusCode.UNIMPLEMENTED,
                RPCStatusCode.DATA_LOSS,
                RPCStatusCode.UNAUTHENTICATED,
                RPCStatusCode.PERMISSION_DENIED,
            )
        ],
        (TemporalError("some error of a later SDK"), 503),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_every_temporal_error_maps_to_a_documented_status(
    error: TemporalError, status: int
) -> None:
    mapped = from_temporal(error)
    assert mapped is not None
    assert mapped.status_code == status
    assert mapped.detail and mapped.error_name


@pytest.fixture
async def broken_api(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The app whose gateway fails with an exception no handler knows."""
    engine = make_engine(sqlite_url_for(tmp_path))
    migrate(engine)
    key = create_key(engine, role=Role.DISPATCHER, unit=None)
    resources = build_resources(dev_env.client, engine, load_domain(None), task_queue="unused")

    async def explode(case_id: str) -> Any:
        raise RuntimeError(" ".join(PERSONAL))  # personal data in a message

    resources.gateway.case = explode  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=create_app(resources=resources))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http, {"Authorization": f"Bearer {key}"}
    engine.dispose()


async def test_an_unexpected_failure_still_answers_the_error_body(
    broken_api: tuple[httpx.AsyncClient, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    http, headers = broken_api
    with caplog.at_level(logging.ERROR):
        response = await http.get("/v1/grievances/grievance-1", headers=headers)
    assert_error(response, 503, "InternalError")
    assert "RuntimeError" in caplog.text
    for secret in PERSONAL:
        assert secret not in response.text and secret not in caplog.text


async def test_openapi_documents_the_error_body_for_every_422(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    with_body = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            if "requestBody" in operation:
                with_body += 1
                assert "422" in answers, (method, path)
            if "422" in answers:
                schema = answers["422"]["content"]["application/json"]["schema"]
                assert schema == error_ref, (method, path)
    assert with_body >= 16  # intake and every action
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    events = spec["paths"]["/v1/grievances/{case_id}/events"]["get"]
    assert {"Link", "X-Next-After-Seq"} <= set(events["responses"]["200"]["headers"])
    action = spec["paths"]["/v1/grievances/{case_id}/progress"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in action["parameters"])


@pytest.mark.parametrize("note", ["a\x00b", "\x1b[31mred", "bell\x07", "del\x7f"])
async def test_control_characters_are_unprocessable(api: Api, note: str) -> None:
    # PostgreSQL stores no NUL in text or JSONB: such a note would stall the projection.
    case = await _open_case(api)
    response = await api.http.post(
        f"/v1/grievances/{case}/supervise", json={"note": note}, headers=api.as_(Role.DISPATCHER)
    )
    assert_error(response, 422, "ValidationError")


async def test_line_breaks_and_tabs_are_kept(api: Api) -> None:
    case = await _open_case(api)
    note = "第一行\n第二行\r\n\t缩进"
    response = await api.http.post(
        f"/v1/grievances/{case}/supervise", json={"note": note}, headers=api.as_(Role.DISPATCHER)
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/grievances", {"unit": "grid-1\x00"}),
        ("/v1/grievances", {"involving": "\x00"}),
        ("/v1/grievances", {"category": "city\x00"}),
        ("/v1/grievances", {"unit": "u" * 201}),
        ("/v1/grievances/grievance-a%00b", {}),
        ("/v1/grievances/grievance-a%00b/events", {}),
    ],
)
async def test_search_values_a_database_cannot_hold_are_unprocessable(
    api: Api, path: str, params: dict[str, str]
) -> None:
    # PostgreSQL refuses a NUL even in a WHERE clause (psycopg's DataError, a 5xx).
    response = await api.http.get(path, params=params, headers=api.as_(Role.AUDITOR))
    assert_error(response, 422, "ValidationError")
