"""``POST /v1/grievances/{id}/supplement``: the reporter calls again (追加诉求)."""

from __future__ import annotations

from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, dispatched_case, file_case, notice_kinds


async def test_the_hotline_adds_to_an_open_case_and_the_unit_sees_it(api: Api) -> None:
    case = await dispatched_case(api)
    body = {"note": "又来电：噪音持续到凌晨两点", "attachments": ["https://x.example/a.mp3"]}
    await act(api, case["id"], "supplement", Role.HOTLINE, body)
    timeline = await api.http.get(
        f"/v1/grievances/{case['id']}/events", headers=api.as_(case["unit"])
    )
    [added] = [e for e in timeline.json() if e["type"] == "supplemented"]
    assert added["data"] == {"note": body["note"], "attachments": body["attachments"]}
    assert added["actor"]["role"] == "hotline"
    kinds = await notice_kinds(api, case["unit"], case["id"], ["supplement"])
    assert kinds == ["supplement"]


async def test_a_case_in_classify_tells_the_command_centre(api: Api) -> None:
    case = await file_case(api)
    await act(api, case["id"], "supplement", Role.HOTLINE, {"note": "补充：地址是3号楼"})
    kinds = await notice_kinds(api, Role.DISPATCHER, case["id"], ["supplement"])
    assert kinds == ["supplement"]


async def test_supplement_refusals(api: Api) -> None:
    case = await file_case(api)
    await act(api, case["id"], "supplement", Role.DISPATCHER, {"note": "x"}, expect=403)
    await act(api, case["id"], "supplement", Role.HOTLINE, {"note": " "}, expect=422)
    await act(api, case["id"], "supplement", Role.HOTLINE, {}, expect=422)
    await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "done"})
    await act(api, case["id"], "supplement", Role.HOTLINE, {"note": "again"}, expect=409)
    events = await api.http.get(
        f"/v1/grievances/{case['id']}/events", headers=api.as_(Role.DISPATCHER)
    )
    assert "supplemented" not in [e["type"] for e in events.json()]
