"""Issue 4's paths through /v1: auto-dispatch, arbitration, whistle, merge."""

from __future__ import annotations

from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, dispatched_case, file_case, handled_case, notice_kinds
from tests.builders import VENDING_TEXT


async def test_a_clear_vending_report_goes_straight_to_the_grid(api: Api) -> None:
    case = await file_case(api, description=VENDING_TEXT)
    assert (case["stage"], case["unit"], case["category"]) == (
        "accept",
        "grid-1",
        "city.street-vending",
    )
    events = (
        await api.http.get(f"/v1/grievances/{case['id']}/events", headers=api.as_("grid-1"))
    ).json()
    assert [e["type"] for e in events] == ["reported", "suggested", "dispatched"]
    assert events[2]["actor"] == {"role": "system", "unit": None, "holder": None, "key_id": None}
    await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})


async def test_return_limit_then_arbitration(api: Api) -> None:
    case = await file_case(api)
    for _ in range(2):
        body = {"category": "city.street-vending", "unit": "grid-2"}
        await act(api, case["id"], "dispatch", Role.DISPATCHER, body)
        await act(api, case["id"], "return", "grid-2", {"reason": "不属于本网格"})
    refused = await act(
        api,
        case["id"],
        "dispatch",
        Role.DISPATCHER,
        {"category": "city.street-vending"},
        expect=409,
    )
    assert "arbitrate" in refused["detail"]
    await act(api, case["id"], "arbitrate", Role.DISPATCHER, {"unit": "grid-99"}, expect=422)
    case = await act(
        api, case["id"], "arbitrate", Role.DISPATCHER, {"unit": "grid-1", "note": "裁定"}
    )
    assert (case["unit"], case["arbitrated"], case["returns"]) == ("grid-1", True, 2)
    await act(api, case["id"], "return", "grid-1", {"reason": "还是不归我"}, expect=409)
    await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})


async def test_whistle_summons_units_that_then_see_and_report_in(api: Api) -> None:
    case = await handled_case(api)
    body = {"units": ["dept-cg", "dept-hs"], "reason": "需要执法和水务配合"}
    case = await act(api, case["id"], "whistle", "grid-1", body)
    assert case["co_units"] == ["dept-cg", "dept-hs"]
    await act(
        api, case["id"], "whistle", "grid-1", {"units": ["nowhere"], "reason": "x"}, expect=422
    )
    read = await api.http.get(f"/v1/grievances/{case['id']}", headers=api.as_("dept-cg"))
    assert read.status_code == 200
    await act(api, case["id"], "report-in", "dept-wj", {}, expect=403)
    case = await act(api, case["id"], "report-in", "dept-cg", {"note": "已派执法队员"})
    assert case["reported_in"] == ["dept-cg"]
    await act(api, case["id"], "progress", "dept-hs", {"note": "已关阀抢修"})
    await act(
        api, case["id"], "complete", "dept-hs", {"result": "resolved", "note": "x"}, expect=403
    )
    assert await notice_kinds(api, "dept-hs", case["id"], ["summons"]) == ["summons"]
    await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})


async def test_merge_refusals_and_success(api: Api) -> None:
    target = await file_case(api)
    duplicate = await file_case(api)
    await act(
        api, duplicate["id"], "merge", Role.DISPATCHER, {"into": "grievance-nope"}, expect=422
    )
    await act(api, duplicate["id"], "merge", Role.DISPATCHER, {"into": duplicate["id"]}, expect=422)
    closed = await file_case(api)
    await act(api, closed["id"], "reject", Role.DISPATCHER, {"reason": "无效"})
    await act(api, duplicate["id"], "merge", Role.DISPATCHER, {"into": closed["id"]}, expect=409)
    handled = await dispatched_case(api)
    await act(api, handled["id"], "merge", Role.DISPATCHER, {"into": target["id"]}, expect=409)

    merged = await act(api, duplicate["id"], "merge", Role.DISPATCHER, {"into": target["id"]})
    assert (merged["status"], merged["outcome"], merged["merged_into"]) == (
        "closed",
        "merged",
        target["id"],
    )
    await act(api, target["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})
    await act(api, handled["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})
