"""Signed webhooks (SPEC §10) end to end: the API, a real worker's drain, a real HTTP receiver.

Signatures are checked with the ``standardwebhooks`` package from PyPI, not
with our signing code. The app is shared by the session's API tests, so each
test keeps to its own cases and deletes its subscription at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, dispatched_case, file_case
from tests.receiver import Delivery, WebhookReceiver

PATIENCE = 30.0


@asynccontextmanager
async def subscribed(
    api: Api, receiver: WebhookReceiver, events: list[str] | None = None
) -> AsyncIterator[dict[str, Any]]:
    body: dict[str, Any] = {"url": receiver.url}
    if events is not None:
        body["events"] = events
    response = await api.http.post("/v1/webhooks", json=body, headers=api.as_(Role.ADMIN))
    assert response.status_code == 201, response.text
    subscription: dict[str, Any] = response.json()
    try:
        yield subscription
    finally:
        await api.http.delete(f"/v1/webhooks/{subscription['id']}", headers=api.as_(Role.ADMIN))


def of_case(receiver: WebhookReceiver, case_id: str) -> list[Delivery]:
    return [d for d in receiver.deliveries if d.body and d.body.get("case_id") == case_id]


async def wait_until(check: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def timeline(api: Api, case_id: str) -> list[dict[str, Any]]:
    response = await api.http.get(
        f"/v1/grievances/{case_id}/events", headers=api.as_(Role.DISPATCHER)
    )
    events: list[dict[str, Any]] = response.json()
    return events


def verified(secret: str, delivery: Delivery) -> Any:
    """The message, once the library has checked its signature over the raw body."""
    return Webhook(secret).verify(delivery.raw, delivery.headers)


async def test_a_subscriber_gets_every_event_of_a_case_signed_and_in_order(api: Api) -> None:
    with WebhookReceiver() as receiver:
        async with subscribed(api, receiver) as subscription:
            assert subscription["secret"].startswith("whsec_")
            case = await dispatched_case(api)
            await act(api, case["id"], "accept", case["unit"], {})
            await act(api, case["id"], "supplement", Role.HOTLINE, {"note": "又打来了"})
            await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "已解决"})
            events = [e for e in await timeline(api, case["id"])]
            await wait_until(
                lambda: len(of_case(receiver, case["id"])) >= len(events), "every event"
            )
            got = [verified(subscription["secret"], d) for d in of_case(receiver, case["id"])]
    assert [m["seq"] for m in got] == [e["seq"] for e in events]
    assert [m["type"] for m in got] == [f"case.{e['type']}" for e in events]
    assert len({m["id"] for m in got}) == len(got)
    first, last = got[0], got[-1]
    assert first == {
        "id": f"{case['id']}:1",
        "type": "case.reported",
        "case_id": case["id"],
        "external_id": case["external_id"],
        "seq": 1,
        "at": first["at"],
        "stage": "report",
        "status": "open",
        "data": events[0]["data"],
    }
    assert (last["type"], last["status"], last["data"]) == (
        "case.closed",
        "closed",
        {"outcome": "withdrawn"},
    )
    assert "supplemented" in [m["type"].removeprefix("case.") for m in got]


async def test_a_subscriber_may_want_only_some_event_types(api: Api) -> None:
    with WebhookReceiver() as receiver:
        async with subscribed(api, receiver, ["case.closed", "withdrawn"]):
            case = await file_case(api)
            await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "x"})
            await wait_until(lambda: len(of_case(receiver, case["id"])) >= 2, "two events")
            await asyncio.sleep(1.5)  # nothing else comes
    assert [d.body["type"] for d in of_case(receiver, case["id"])] == [
        "case.withdrawn",
        "case.closed",
    ]


async def test_500_500_200_is_one_message_after_deduplication_and_holds_the_case_back(
    api: Api,
) -> None:
    with WebhookReceiver([500, 500]) as receiver:
        async with subscribed(api, receiver, ["reported", "withdrawn"]) as subscription:
            case = await file_case(api)
            await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "x"})
            await wait_until(lambda: len(of_case(receiver, case["id"])) >= 4, "retries")
            listed = await api.http.get(
                f"/v1/webhooks/{subscription['id']}/deliveries", headers=api.as_(Role.ADMIN)
            )
    attempts = of_case(receiver, case["id"])
    ids = [d.headers["webhook-id"] for d in attempts]
    assert ids == [f"{case['id']}:1"] * 3 + [ids[3]]  # the withdrawal waited its turn
    unique = list(dict.fromkeys(ids))
    assert [verified(subscription["secret"], d)["type"] for d in attempts[2:]] == [
        "case.reported",
        "case.withdrawn",
    ]
    assert len(unique) == 2
    mine = [d for d in listed.json()["items"] if d["case_id"] == case["id"]]
    reported = next(d for d in mine if d["seq"] == 1)
    assert (reported["status"], reported["attempts"]) == ("delivered", 3)
    assert "answered 500" in reported["last_error"]


async def test_a_410_is_failed_listed_and_can_be_retried_by_hand(api: Api) -> None:
    with WebhookReceiver([410]) as receiver:
        async with subscribed(api, receiver, ["reported"]) as subscription:
            case = await file_case(api)
            hook = f"/v1/webhooks/{subscription['id']}"
            failed: list[dict[str, Any]] = []

            async def poll_failed() -> None:
                response = await api.http.get(
                    f"{hook}/deliveries", params={"status": "failed"}, headers=api.as_(Role.ADMIN)
                )
                failed[:] = [d for d in response.json()["items"] if d["case_id"] == case["id"]]

            for _ in range(300):
                await poll_failed()
                if failed:
                    break
                await asyncio.sleep(0.1)
            [gone] = failed
            assert (gone["attempts"], gone["type"]) == (1, "case.reported")
            assert "answered 410" in gone["last_error"]
            again = await api.http.post(
                f"{hook}/deliveries/{gone['id']}/retry", headers=api.as_(Role.ADMIN)
            )
            assert again.status_code == 200 and again.json()["status"] == "pending"
            await wait_until(lambda: len(of_case(receiver, case["id"])) >= 2, "the retry")
            twice = await api.http.post(
                f"{hook}/deliveries/{gone['id']}/retry", headers=api.as_(Role.ADMIN)
            )
            assert twice.status_code == 409  # delivered (or still pending): not failed
            unknown = await api.http.post(
                f"{hook}/deliveries/{case['id']}:99/retry", headers=api.as_(Role.ADMIN)
            )
            assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"url": "ftp://example.org/x"}, 422, "http or https"),
        ({"url": "not a url"}, 422, "url"),
        ({"url": "http://127.0.0.1:9/x", "events": ["teleported"]}, 422, "teleported"),
        ({"url": "http://127.0.0.1:9/x", "events": []}, 422, "at least one"),
        ({"url": "http://127.0.0.1:9/x", "extra": 1}, 422, ""),
    ],
)
async def test_bad_subscriptions_are_refused(
    api: Api, body: dict[str, Any], status: int, says: str
) -> None:
    response = await api.http.post("/v1/webhooks", json=body, headers=api.as_(Role.ADMIN))
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]


async def test_only_admins_manage_webhooks_and_deleted_ones_get_nothing(api: Api) -> None:
    for who in (Role.DISPATCHER, Role.HOTLINE, "grid-1"):
        response = await api.http.get("/v1/webhooks", headers=api.as_(who))
        assert response.status_code == 403
    with WebhookReceiver() as receiver:
        async with subscribed(api, receiver, ["reported"]) as subscription:
            listed = await api.http.get("/v1/webhooks", headers=api.as_(Role.ADMIN))
            [mine] = [s for s in listed.json()["items"] if s["id"] == subscription["id"]]
            assert "secret" not in mine
        gone = await api.http.delete(
            f"/v1/webhooks/{subscription['id']}", headers=api.as_(Role.ADMIN)
        )
        assert gone.status_code == 404
        case = await file_case(api)
        await asyncio.sleep(2.5)  # past a drain's poll
    assert of_case(receiver, case["id"]) == []
