"""SPEC §4a: a retried action with the same Idempotency-Key is applied once, answered alike."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, dispatched_case, handled_case


def new_key() -> str:
    return f"retry-{uuid.uuid4()}"


async def keyed(
    api: Api, case_id: str, action: str, who: Role | str, body: dict[str, Any], key: str
) -> httpx.Response:
    return await api.http.post(
        f"/v1/grievances/{case_id}/{action}",
        json=body,
        headers={**api.as_(who), "Idempotency-Key": key},
    )


async def events_of(api: Api, case_id: str) -> list[dict[str, Any]]:
    response = await api.http.get(f"/v1/grievances/{case_id}/events", headers=api.as_(Role.AUDITOR))
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def accepted_updates(dev_env: WorkflowEnvironment, case_id: str, key: str) -> int:
    history = await dev_env.client.get_workflow_handle(case_id).fetch_history()
    accepted = [
        event.workflow_execution_update_accepted_event_attributes.accepted_request
        for event in history.events
        if event.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    return sum(1 for request in accepted if request.meta.update_id == key)


@pytest.mark.parametrize(
    ("action", "who", "body", "event_type"),
    [
        ("progress", "grid-1", {"note": "已到现场"}, "progress"),
        ("supervise", Role.DISPATCHER, {"note": "请加快办理"}, "supervised"),
        ("whistle", "grid-1", {"units": ["dept-cg"], "reason": "需要执法配合"}, "whistled"),
    ],
)
async def test_the_same_key_twice_records_one_event(
    api: Api,
    dev_env: WorkflowEnvironment,
    action: str,
    who: Role | str,
    body: dict[str, Any],
    event_type: str,
) -> None:
    case = await handled_case(api)
    key = new_key()
    first = await keyed(api, case["id"], action, who, body, key)
    again = await keyed(api, case["id"], action, who, body, key)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json()
    assert again.json()["reporter"]["phone"] == first.json()["reporter"]["phone"]
    events = await events_of(api, case["id"])
    assert [e["type"] for e in events].count(event_type) == 1
    assert await accepted_updates(dev_env, case["id"], key) == 1


async def test_concurrent_retries_apply_once(api: Api, dev_env: WorkflowEnvironment) -> None:
    case = await handled_case(api)
    key = new_key()
    answers = await asyncio.gather(
        *(keyed(api, case["id"], "progress", "grid-1", {"note": "同时重试"}, key) for _ in range(3))
    )
    assert {answer.status_code for answer in answers} == {200}
    assert [e["type"] for e in await events_of(api, case["id"])].count("progress") == 1
    assert await accepted_updates(dev_env, case["id"], key) == 1


async def test_a_refusal_is_answered_again_identically(api: Api) -> None:
    case = await dispatched_case(api)  # in accept: progress is not allowed yet
    key = new_key()
    refused = await keyed(api, case["id"], "progress", "grid-1", {"note": "太早了"}, key)
    assert refused.status_code == 409, refused.text
    await act(api, case["id"], "accept", "grid-1", {})
    # Progress would now be allowed, but this key was answered 409: a retry is told the same.
    again = await keyed(api, case["id"], "progress", "grid-1", {"note": "太早了"}, key)
    assert (again.status_code, again.json()) == (409, refused.json())
    assert "progress" not in [e["type"] for e in await events_of(api, case["id"])]
    # A new key is a new request.
    fresh = await keyed(api, case["id"], "progress", "grid-1", {"note": "太早了"}, new_key())
    assert fresh.status_code == 200, fresh.text


async def test_a_key_reused_for_another_request_is_refused(api: Api) -> None:
    case = await handled_case(api)
    key = new_key()
    assert (
        await keyed(api, case["id"], "progress", "grid-1", {"note": "一"}, key)
    ).status_code == 200
    for action, who, body in [
        ("progress", "grid-1", {"note": "二"}),  # another body
        ("supervise", Role.DISPATCHER, {"note": "一"}),  # another action (and requester)
    ]:
        reused = await keyed(api, case["id"], action, who, body, key)
        assert reused.status_code == 422, reused.text
        assert reused.json()["error"] == "IdempotencyKeyReused"
    types = [e["type"] for e in await events_of(api, case["id"])]
    assert types.count("progress") == 1 and "supervised" not in types


async def test_after_the_case_closed_the_key_answers_the_original_200(api: Api) -> None:
    case = await handled_case(api)
    key = new_key()
    first = await keyed(api, case["id"], "progress", "grid-1", {"note": "处理中"}, key)
    assert first.status_code == 200, first.text
    await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "市民撤回"})
    again = await keyed(api, case["id"], "progress", "grid-1", {"note": "处理中"}, key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json() and again.json()["stage"] == "handle"
    # Without the key the closed case refuses, as before.
    await act(api, case["id"], "progress", "grid-1", {"note": "处理中"}, expect=409)


async def test_the_stored_case_is_masked_for_each_reader(api: Api) -> None:
    case = await handled_case(api)
    key = new_key()
    body = {"note": "请加快"}
    first = await keyed(api, case["id"], "supervise", Role.DISPATCHER, body, key)
    assert first.json()["reporter"]["phone"] == "13812345678"
    again = await keyed(api, case["id"], "supervise", Role.DISPATCHER, body, key)
    assert again.json()["reporter"]["phone"] == "13812345678"
    # A unit's own retried action comes back masked, from the same unmasked record.
    unit_key = new_key()
    mine = await keyed(api, case["id"], "progress", "grid-1", {"note": "x"}, unit_key)
    assert mine.json()["reporter"]["phone"] == "138****5678"
    mine_again = await keyed(api, case["id"], "progress", "grid-1", {"note": "x"}, unit_key)
    assert mine_again.json()["reporter"]["phone"] == "138****5678"


@pytest.mark.parametrize(
    "key",
    [b"", b"x" * 129, b"tab\there", "中文键".encode(), b"\x7f"],
    ids=["empty", "too-long", "control", "non-ascii", "delete"],
)
async def test_a_malformed_key_is_unprocessable(api: Api, key: bytes) -> None:
    case = await handled_case(api)
    response = await api.http.post(
        f"/v1/grievances/{case['id']}/progress",
        json={"note": "x"},
        headers=[
            *((name.encode(), value.encode()) for name, value in api.as_("grid-1").items()),
            (b"Idempotency-Key", key),
        ],
    )
    assert response.status_code == 422, response.text
    assert set(response.json()) == {"error", "detail"}
    assert "progress" not in [e["type"] for e in await events_of(api, case["id"])]


async def test_the_longest_key_is_accepted(api: Api) -> None:
    case = await handled_case(api)
    response = await keyed(api, case["id"], "progress", "grid-1", {"note": "x"}, "k" * 128)
    assert response.status_code == 200, response.text
