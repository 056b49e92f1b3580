"""Every refusal of SPEC §4 answers with its status and an {error, detail} body."""

from __future__ import annotations

from typing import Any

import pytest

from grievance_flow.workflows.contracts import Action, Role
from grievance_flow.workflows.lifecycle import TRANSITIONS
from tests.api.conftest import Api
from tests.api.helpers import act, dispatched_case, file_case, handled_case

VALID_BODIES: dict[Action, dict[str, Any]] = {
    Action.DISPATCH: {"category": "city.street-vending"},
    Action.REJECT: {"reason": "非本区事项"},
    Action.ACCEPT: {},
    Action.RETURN: {"reason": "不属于本单位"},
    Action.PROGRESS: {"note": "处理中"},
    Action.COMPLETE: {"result": "resolved", "note": "已处理"},
    Action.RECHECK: {"passed": True, "satisfaction": "satisfied"},
    Action.MERGE: {"into": "grievance-somewhere"},
    Action.ARBITRATE: {"unit": "grid-1"},
    Action.WHISTLE: {"units": ["dept-cg"], "reason": "需要城管配合"},
    Action.REPORT_IN: {},
    Action.EXTEND: {"working_days": 3, "reason": "需协调多个部门"},
    Action.DECIDE_EXTENSION: {"approve": True},
    Action.SUPERVISE: {"note": "督办"},
    Action.SUPPLEMENT: {"note": "又来电"},
    Action.WITHDRAW: {"reason": "撤回"},
}

KEYED_ROLES = [role for role in Role if role is not Role.SYSTEM]


def assert_error(response: Any, status: int, name: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["detail"]
    if name is not None:
        assert body["error"] == name


@pytest.fixture(scope="module")
async def classify_case(api: Api) -> dict[str, Any]:
    return await file_case(api)


@pytest.mark.parametrize(
    ("action", "role"),
    [
        (action, role)
        for action in Action
        for role in KEYED_ROLES
        if role not in TRANSITIONS[action].roles
    ],
)
async def test_wrong_role_is_forbidden(
    api: Api, classify_case: dict[str, Any], action: Action, role: Role
) -> None:
    who: Role | str = "grid-1" if role is Role.UNIT else role
    response = await api.http.post(
        f"/v1/grievances/{classify_case['id']}/{action.value}",
        json=VALID_BODIES[action],
        headers=api.as_(who),
    )
    assert_error(response, 403, "Forbidden")


@pytest.mark.parametrize("action", [Action.ACCEPT, Action.RETURN])
async def test_other_unit_may_not_act_in_accept(api: Api, action: Action) -> None:
    case = await dispatched_case(api)
    response = await api.http.post(
        f"/v1/grievances/{case['id']}/{action.value}",
        json=VALID_BODIES[action],
        headers=api.as_("grid-2"),
    )
    assert_error(response, 403, "Forbidden")


@pytest.mark.parametrize("action", [Action.PROGRESS, Action.COMPLETE])
async def test_other_unit_may_not_act_in_handle(api: Api, action: Action) -> None:
    case = await handled_case(api)
    response = await api.http.post(
        f"/v1/grievances/{case['id']}/{action.value}",
        json=VALID_BODIES[action],
        headers=api.as_("comm-1"),
    )
    assert_error(response, 403, "Forbidden")


async def test_other_unit_may_not_read_or_list(api: Api) -> None:
    case = await dispatched_case(api)
    for path in (f"/v1/grievances/{case['id']}", f"/v1/grievances/{case['id']}/events"):
        assert_error(await api.http.get(path, headers=api.as_("grid-2")), 403, "Forbidden")
    assert (
        await api.http.get(f"/v1/grievances/{case['id']}", headers=api.as_("grid-1"))
    ).status_code == 200
    assert_error(
        await api.http.get("/v1/grievances", params={"unit": "grid-1"}, headers=api.as_("grid-2")),
        403,
    )
    mine = await api.http.get("/v1/grievances", headers=api.as_("grid-2"))
    # Its own cases: assigned to it, or summoned to by a whistle (co_units).
    assert all(
        item["unit"] == "grid-2" or "grid-2" in item["co_units"] for item in mine.json()["items"]
    )
    assert case["id"] not in {item["id"] for item in mine.json()["items"]}


async def test_wrong_stage_is_a_conflict(api: Api) -> None:
    case = await handled_case(api)
    for action, who in [
        (Action.ACCEPT, "grid-1"),
        (Action.RETURN, "grid-1"),
        (Action.DISPATCH, Role.DISPATCHER),
        (Action.REJECT, Role.DISPATCHER),
        (Action.RECHECK, Role.VERIFIER),
    ]:
        response = await api.http.post(
            f"/v1/grievances/{case['id']}/{action.value}",
            json=VALID_BODIES[action],
            headers=api.as_(who),
        )
        assert_error(response, 409, "Conflict")
        assert "handle" in response.json()["detail"]


async def test_actions_on_a_closed_case_are_conflicts(api: Api) -> None:
    case = await file_case(api)
    await act(api, case["id"], "reject", Role.DISPATCHER, {"reason": "无效来电"})
    for action, who in [(Action.WITHDRAW, Role.HOTLINE), (Action.SUPERVISE, Role.DISPATCHER)]:
        response = await api.http.post(
            f"/v1/grievances/{case['id']}/{action.value}",
            json=VALID_BODIES[action],
            headers=api.as_(who),
        )
        assert_error(response, 409, "Conflict")


async def test_unknown_case_is_not_found(api: Api) -> None:
    missing = "grievance-does-not-exist"
    assert_error(
        await api.http.get(f"/v1/grievances/{missing}", headers=api.as_(Role.DISPATCHER)),
        404,
        "NotFound",
    )
    assert_error(
        await api.http.get(f"/v1/grievances/{missing}/events", headers=api.as_(Role.AUDITOR)), 404
    )
    response = await api.http.post(
        f"/v1/grievances/{missing}/withdraw", json={"reason": "x"}, headers=api.as_(Role.HOTLINE)
    )
    assert_error(response, 404, "NotFound")
    response = await api.http.post(
        f"/v1/grievances/{missing}/dispatch",
        json={"category": "city.street-vending"},
        headers=api.as_(Role.DISPATCHER),
    )
    assert_error(response, 404, "NotFound")


async def test_unknown_action_is_not_found(api: Api, classify_case: dict[str, Any]) -> None:
    response = await api.http.post(
        f"/v1/grievances/{classify_case['id']}/teleport", json={}, headers=api.as_(Role.DISPATCHER)
    )
    assert_error(response, 404)


@pytest.mark.parametrize(
    ("action", "who", "body"),
    [
        (Action.REJECT, Role.DISPATCHER, {}),
        (Action.REJECT, Role.DISPATCHER, {"reason": "   "}),
        (Action.DISPATCH, Role.DISPATCHER, {"category": "no.such-category"}),
        (Action.DISPATCH, Role.DISPATCHER, {"category": "city.street-vending", "unit": "grid-99"}),
        (Action.DISPATCH, Role.DISPATCHER, {"category": "city.street-vending", "colour": "red"}),
        (Action.WITHDRAW, Role.HOTLINE, {"reason": 42}),
    ],
)
async def test_malformed_bodies_are_unprocessable_and_change_nothing(
    api: Api, classify_case: dict[str, Any], action: Action, who: Role, body: dict[str, Any]
) -> None:
    response = await api.http.post(
        f"/v1/grievances/{classify_case['id']}/{action.value}", json=body, headers=api.as_(who)
    )
    assert_error(response, 422)
    case = (
        await api.http.get(
            f"/v1/grievances/{classify_case['id']}", headers=api.as_(Role.DISPATCHER)
        )
    ).json()
    assert case["stage"] == "classify" and case["status"] == "open"


@pytest.mark.parametrize(
    "change",
    [
        {"location": {"address": "x", "grid": "grid-99"}},
        {"location": {"address": "x", "grid": "comm-1"}},
        {"external_id": "has spaces/and slashes"},
        {"reporter": {"name": "王", "phone": "not-a-phone"}},
        {"category_hint": "no.such-category"},
        {"description": ""},
    ],
)
async def test_malformed_intake_is_unprocessable(api: Api, change: dict[str, Any]) -> None:
    from tests.api.helpers import grievance_body

    response = await api.http.post(
        "/v1/grievances", json=grievance_body() | change, headers=api.as_(Role.HOTLINE)
    )
    assert_error(response, 422)


async def test_keys_missing_or_unknown_are_unauthorized(api: Api) -> None:
    assert_error(await api.http.get("/v1/grievances"), 401, "Unauthorized")
    assert_error(
        await api.http.get("/v1/grievances", headers={"Authorization": "Bearer nope"}),
        401,
        "Unauthorized",
    )
    assert_error(await api.http.get("/v1/catalogue", headers={"Authorization": "Basic abc"}), 401)


async def test_only_hotline_and_dispatcher_file(api: Api) -> None:
    from tests.api.helpers import grievance_body

    for who in (Role.VERIFIER, Role.AUDITOR, "grid-1"):
        response = await api.http.post(
            "/v1/grievances", json=grievance_body(), headers=api.as_(who)
        )
        assert_error(response, 403, "Forbidden")
