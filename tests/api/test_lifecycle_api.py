"""A case driven end to end through /v1 by the hotline, a dispatcher, the unit and a verifier."""

from __future__ import annotations

from grievance_flow.store.keys import key_id_for
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, file_case, grievance_body, listed
from tests.builders import CASE_CATEGORY


async def test_hotline_to_closed_with_full_timeline(api: Api) -> None:
    case = await file_case(api)
    assert case["stage"] == "classify" and case["status"] == "open"
    assert case["suggested_category"] == CASE_CATEGORY
    assert case["sla"]["stage"] == "classify" and case["sla"]["state"] == "on_track"
    assert case["reporter"]["phone"] == "138****5678"
    case_id = case["id"]

    case = await act(
        api,
        case_id,
        "dispatch",
        Role.DISPATCHER,
        {"category": "city.street-vending", "note": "请速处理"},
    )
    assert (case["stage"], case["unit"], case["tier"]) == ("accept", "grid-1", "D")
    assert case["reporter"]["phone"] == "13812345678"  # the dispatcher calls citizens back
    assert set(case["deadlines"]) == {"classify", "accept"}

    case = await act(api, case_id, "accept", "grid-1", {"note": "已签收"})
    assert case["stage"] == "handle" and case["reporter"]["phone"] == "138****5678"
    await act(api, case_id, "progress", "grid-1", {"note": "已到现场劝离"})
    case = await act(
        api,
        case_id,
        "complete",
        "grid-1",
        {"result": "resolved", "note": "摊贩已清理", "evidence": ["https://img.example/1.jpg"]},
    )
    assert case["stage"] == "recheck"
    case = await act(
        api, case_id, "recheck", Role.VERIFIER, {"passed": True, "satisfaction": "satisfied"}
    )
    assert (case["stage"], case["status"], case["outcome"]) == ("closed", "closed", "resolved")
    assert case["closed_at"] is not None and case["sla"] is None

    response = await api.http.get(f"/v1/grievances/{case_id}/events", headers=api.as_(Role.AUDITOR))
    assert response.status_code == 200
    events = response.json()
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
    assert [event["seq"] for event in events] == list(range(1, 9))
    # The keys of these tests have no holder; every actor names its key (SPEC §7).
    hotline, grid = key_id_for(api.keys.roles[Role.HOTLINE]), key_id_for(api.keys.units["grid-1"])
    assert events[0]["actor"] == {
        "role": "hotline",
        "unit": None,
        "holder": None,
        "key_id": hotline,
    }
    assert events[3]["actor"] == {"role": "unit", "unit": "grid-1", "holder": None, "key_id": grid}
    suggested = events[1]["data"]["candidates"][0]
    assert suggested["category"] == CASE_CATEGORY and 0 < suggested["score"] <= 1

    page = await listed(
        api, Role.DISPATCHER, case_id, stage="closed", category="city.street-vending"
    )
    assert all(item["stage"] == "closed" for item in page["items"])


async def test_intake_is_idempotent_on_external_id(api: Api) -> None:
    body = grievance_body()
    first = await api.http.post("/v1/grievances", json=body, headers=api.as_(Role.HOTLINE))
    again = await api.http.post("/v1/grievances", json=body, headers=api.as_(Role.DISPATCHER))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    events = await api.http.get(
        f"/v1/grievances/{first.json()['id']}/events", headers=api.as_(Role.HOTLINE)
    )
    assert [event["type"] for event in events.json()].count("reported") == 1


async def test_intake_after_close_still_answers_the_existing_case(api: Api) -> None:
    case = await file_case(api)
    await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "市民撤诉"})
    again = await api.http.post(
        "/v1/grievances",
        json=grievance_body(external_id=case["external_id"]),
        headers=api.as_(Role.HOTLINE),
    )
    assert again.status_code == 200
    assert again.json()["status"] == "closed" and again.json()["outcome"] == "withdrawn"


async def test_return_path_and_redispatch(api: Api) -> None:
    case = await file_case(api)
    case = await act(
        api,
        case["id"],
        "dispatch",
        Role.DISPATCHER,
        {"category": "city.street-vending", "unit": "grid-2"},
    )
    case = await act(api, case["id"], "return", "grid-2", {"reason": "地址不在本网格"})
    assert (case["stage"], case["unit"], case["returns"]) == ("classify", None, 1)
    case = await act(
        api, case["id"], "dispatch", Role.DISPATCHER, {"category": "city.street-vending"}
    )
    assert case["unit"] == "grid-1"
    await act(api, case["id"], "accept", "grid-2", {}, expect=403)
    await act(api, case["id"], "accept", "grid-1", {})


async def test_failed_recheck_goes_back_to_handle(api: Api) -> None:
    case = await file_case(api)
    case_id = case["id"]
    await act(api, case_id, "dispatch", Role.DISPATCHER, {"category": "city.street-vending"})
    await act(api, case_id, "accept", "grid-1", {})
    await act(api, case_id, "complete", "grid-1", {"result": "resolved", "note": "已处理"})
    case = await act(
        api,
        case_id,
        "recheck",
        Role.VERIFIER,
        {"passed": False, "satisfaction": "unsatisfied", "note": "摊贩仍在"},
    )
    assert (case["stage"], case["reopens"]) == ("handle", 1)


async def test_supervise_and_withdraw_in_any_open_stage(api: Api) -> None:
    case = await file_case(api)
    case = await act(api, case["id"], "supervise", Role.DISPATCHER, {"note": "领导批示，重点督办"})
    assert case["supervised"] is True
    case = await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "重复来电"})
    assert case["outcome"] == "withdrawn"
