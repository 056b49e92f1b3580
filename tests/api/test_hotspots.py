"""Hotspots over HTTP, and a proactive case (未诉先办) driven from a hotspot to closed.

The API fixture's read model is shared by the session's API tests, so each
test files its cases in a grid of its own and looks for them by id.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, file_case, grievance_body
from tests.builders import CASE_CATEGORY

CASE_CATEGORY_NAME = "夜间施工扰民"


async def _hotspots(api: Api, who: Role | str, **params: Any) -> dict[str, Any]:
    response = await api.http.get("/v1/hotspots", params=params, headers=api.as_(who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _cluster(
    api: Api, who: Role | str, category: str, grid: str, expect: list[str], **params: Any
) -> dict[str, Any]:
    """The cluster of ``category`` × ``grid``, once the read model lists every id of ``expect``."""
    params = {"days": 30, "min_cases": 1} | params
    for _ in range(100):
        body = await _hotspots(api, who, **params)
        items: list[dict[str, Any]] = body["items"]
        for item in items:
            if (item["category"], item["grid"]) == (category, grid) and set(expect) <= set(
                item["case_ids"]
            ):
                return item
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {category} × {grid} cluster with {expect}")


async def _projected(api: Api, case_id: str, stage: str) -> None:
    """Wait until the read model has ``case_id`` in ``stage``."""
    for _ in range(100):
        response = await api.http.get(
            "/v1/grievances", params={"stage": stage, "limit": 500}, headers=api.as_(Role.AUDITOR)
        )
        if any(item["id"] == case_id for item in response.json()["items"]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} never reached {stage} in the read model")


async def test_hotspots_list_clusters_with_windows_and_trend(api: Api) -> None:
    filed = [(await file_case(api, grid="grid-7"))["id"] for _ in range(3)]
    item = await _cluster(api, Role.DISPATCHER, CASE_CATEGORY, "grid-7", filed, days=7)
    assert item["category_name"] == CASE_CATEGORY_NAME and item["grid_name"] == "松林一网格"
    # Nothing in the session was filed a week ago: a new hotspot.
    assert (item["previous"], item["trend"]) == (0, "new")
    assert item["cases"] == len(item["case_ids"]) >= 3
    # Oldest first: ours in the order they were filed.
    assert [case_id for case_id in item["case_ids"] if case_id in filed] == filed

    body = await _hotspots(api, Role.AUDITOR, days=7, min_cases=1)
    assert set(body) == {"days", "min_cases", "window", "previous", "items"}
    assert (body["days"], body["min_cases"]) == (7, 1)
    window, previous = body["window"], body["previous"]
    start, end = datetime.fromisoformat(window["from"]), datetime.fromisoformat(window["to"])
    assert end - start == timedelta(days=7)
    assert previous["to"] == window["from"]
    assert datetime.fromisoformat(previous["from"]) == start - timedelta(days=7)
    counts = [spot["cases"] for spot in body["items"]]
    assert counts == sorted(counts, reverse=True)
    assert all(spot["cases"] >= 1 for spot in body["items"])

    # min_cases is a floor: above this cluster's count it is not listed.
    above = await _hotspots(api, Role.ADMIN, days=7, min_cases=item["cases"] + 1)
    assert all(
        (spot["category"], spot["grid"]) != (CASE_CATEGORY, "grid-7") for spot in above["items"]
    )


@pytest.mark.parametrize(
    "params",
    [
        {"days": 0},
        {"days": 367},
        {"days": "month"},
        {"min_cases": 0},
        {"min_cases": 10001},
    ],
)
async def test_out_of_range_parameters_are_422(api: Api, params: dict[str, Any]) -> None:
    response = await api.http.get("/v1/hotspots", params=params, headers=api.as_(Role.DISPATCHER))
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and next(iter(params)) in body["detail"]


async def test_who_may_read_hotspots(api: Api) -> None:
    for role in (Role.HOTLINE, Role.VERIFIER):
        response = await api.http.get("/v1/hotspots", headers=api.as_(role))
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "Forbidden"
    assert (await api.http.get("/v1/hotspots")).status_code == 401
    for role in (Role.DISPATCHER, Role.AUDITOR, Role.ADMIN):
        await _hotspots(api, role)


async def test_a_unit_sees_the_hotspots_of_its_own_cases(api: Api) -> None:
    waiting = await file_case(api, grid="grid-6")
    mine = await file_case(api, grid="grid-6")
    mine = await act(
        api, mine["id"], "dispatch", Role.DISPATCHER, {"category": "city.street-vending"}
    )
    assert mine["unit"] == "grid-6"
    await _projected(api, mine["id"], "accept")

    item = await _cluster(api, "grid-6", "city.street-vending", "grid-6", [mine["id"]])
    assert item["case_ids"] == [mine["id"]]
    seen = await _hotspots(api, "grid-6", min_cases=1)
    assert all(waiting["id"] not in spot["case_ids"] for spot in seen["items"])
    # The command centre sees the case still waiting in classify.
    await _cluster(api, Role.DISPATCHER, CASE_CATEGORY, "grid-6", [waiting["id"]])

    other = await api.http.get("/v1/hotspots", params={"unit": "grid-1"}, headers=api.as_("grid-6"))
    assert other.status_code == 403, other.text
    filtered = await _hotspots(api, Role.DISPATCHER, unit="grid-6", min_cases=1)
    assert [spot["case_ids"] for spot in filtered["items"]] == [[mine["id"]]]


async def test_proactive_case_from_a_hotspot_to_closed(api: Api) -> None:
    behind = [(await file_case(api, grid="grid-8"))["id"] for _ in range(2)]
    cluster = await _cluster(api, Role.DISPATCHER, CASE_CATEGORY, "grid-8", behind)

    note = "松林二网格工地夜间施工扰民投诉集中，指挥中心主动派单整治"
    response = await api.http.post(
        "/v1/hotspots/open-case",
        json={"category": CASE_CATEGORY, "grid": "grid-8", "note": note},
        headers=api.as_(Role.DISPATCHER),
    )
    assert response.status_code == 201, response.text
    case = response.json()
    case_id = case["id"]
    assert case["channel"] == "proactive" and case["stage"] == "classify"
    assert case["related_cases"] == cluster["case_ids"]
    assert case["description"] == note and case["category_hint"] == CASE_CATEGORY
    assert case["location"]["grid"] == "grid-8" and case["location"]["address"] == "松林二网格"
    assert case["suggested_category"] == CASE_CATEGORY

    # Masking still works on the command centre's empty number.
    read = await api.http.get(f"/v1/grievances/{case_id}", headers=api.as_(Role.HOTLINE))
    assert read.status_code == 200, read.text
    assert read.json()["related_cases"] == cluster["case_ids"]
    assert read.json()["channel"] == "proactive" and read.json()["reporter"]["phone"] == ""

    case = await act(api, case_id, "dispatch", Role.DISPATCHER, {"category": CASE_CATEGORY})
    unit = case["unit"]
    assert case["stage"] == "accept" and unit is not None
    await act(api, case_id, "accept", unit, {"note": "已签收"})
    await act(api, case_id, "progress", unit, {"note": "已约谈施工单位"})
    await act(api, case_id, "complete", unit, {"result": "resolved", "note": "夜间停工，已整改"})
    case = await act(
        api, case_id, "recheck", Role.VERIFIER, {"passed": True, "satisfaction": "satisfied"}
    )
    assert (case["stage"], case["status"], case["outcome"]) == ("closed", "closed", "resolved")

    closed = await api.http.get(f"/v1/grievances/{case_id}", headers=api.as_(Role.AUDITOR))
    assert closed.json()["related_cases"] == cluster["case_ids"]
    assert closed.json()["channel"] == "proactive"
    events = (
        await api.http.get(f"/v1/grievances/{case_id}/events", headers=api.as_(Role.AUDITOR))
    ).json()
    assert [event["type"] for event in events] == [
        "reported",
        "suggested",
        "dispatched",
        "accepted",
        "progress",
        "completed",
        "rechecked",
        "closed",
    ]
    reported = events[0]
    assert reported["actor"]["role"] == "dispatcher"
    assert reported["data"]["channel"] == "proactive"
    assert reported["data"]["related_cases"] == cluster["case_ids"]

    # The proactive case does not feed its own hotspot.
    await _projected(api, case_id, "closed")
    after = await _cluster(api, Role.DISPATCHER, CASE_CATEGORY, "grid-8", behind)
    assert case_id not in after["case_ids"] and after["case_ids"] == cluster["case_ids"]


async def test_a_citizens_report_records_no_related_cases(api: Api) -> None:
    case = await file_case(api, grid="grid-5")
    assert case["related_cases"] == []
    events = (
        await api.http.get(f"/v1/grievances/{case['id']}/events", headers=api.as_(Role.AUDITOR))
    ).json()
    assert "related_cases" not in events[0]["data"]


async def test_opening_a_proactive_case_is_checked(api: Api) -> None:
    behind = await file_case(api, grid="grid-5")
    await _projected(api, behind["id"], "classify")  # related cases are looked up there

    async def open_case(who: Role | str, **body: Any) -> Any:
        payload = {"category": CASE_CATEGORY, "grid": "grid-5", "note": "主动排查"} | body
        return await api.http.post("/v1/hotspots/open-case", json=payload, headers=api.as_(who))

    for who in (Role.HOTLINE, Role.AUDITOR, "grid-5"):
        assert (await open_case(who)).status_code == 403
    for body, named in (
        ({"category": "city.nothing"}, "city.nothing"),
        ({"grid": "grid-99"}, "grid-99"),
        ({"grid": "street-1"}, "street-1"),  # a unit, but not a grid
        ({"related_cases": ["grievance-nowhere"]}, "grievance-nowhere"),
        ({"note": ""}, "note"),
        ({"citizen": "x"}, "citizen"),
    ):
        response = await open_case(Role.DISPATCHER, **body)
        assert response.status_code == 422, response.text
        assert response.json()["error"] and named in response.json()["detail"]

    # Cases named explicitly are linked as given; the same external_id answers 200.
    external_id = f"WSXB-{behind['id'][-12:]}"
    first = await open_case(Role.DISPATCHER, related_cases=[behind["id"]], external_id=external_id)
    assert first.status_code == 201, first.text
    assert first.json()["related_cases"] == [behind["id"]]
    again = await open_case(Role.DISPATCHER, external_id=external_id)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


async def test_the_proactive_channel_is_reserved_for_open_case(api: Api) -> None:
    response = await api.http.post(
        "/v1/grievances",
        json=grievance_body(channel="proactive"),
        headers=api.as_(Role.DISPATCHER),
    )
    assert response.status_code == 422, response.text
    assert "/v1/hotspots/open-case" in response.json()["detail"]
