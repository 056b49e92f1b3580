"""Small steps the API tests repeat: file a case, drive it, wait for the read model."""

from __future__ import annotations

import asyncio
from typing import Any

from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.builders import CASE_TEXT, new_external_id


def grievance_body(
    *, external_id: str | None = None, grid: str = "grid-1", **extra: Any
) -> dict[str, Any]:
    """A new-grievance body as the hotline platform sends it."""
    return {
        "external_id": external_id or new_external_id(),
        "channel": "phone",
        "reporter": {"name": "王女士", "phone": "13812345678"},
        "description": CASE_TEXT,
        "location": {"address": "湖滨路12号", "grid": grid},
        **extra,
    }


async def file_case(api: Api, **body: Any) -> dict[str, Any]:
    """File a grievance as the hotline; returns the created Case."""
    response = await api.http.post(
        "/v1/grievances", json=grievance_body(**body), headers=api.as_(Role.HOTLINE)
    )
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def act(
    api: Api, case_id: str, action: str, who: Role | str, body: dict[str, Any], *, expect: int = 200
) -> dict[str, Any]:
    """Perform an action and check its status."""
    response = await api.http.post(
        f"/v1/grievances/{case_id}/{action}", json=body, headers=api.as_(who)
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def dispatched_case(api: Api, grid: str = "grid-1") -> dict[str, Any]:
    """A case filed and dispatched by the catalogue's route (to ``grid``)."""
    case = await file_case(api, grid=grid)
    return await act(
        api, case["id"], "dispatch", Role.DISPATCHER, {"category": "city.street-vending"}
    )


async def handled_case(api: Api, grid: str = "grid-1") -> dict[str, Any]:
    """A case accepted by its unit and now in handle."""
    case = await dispatched_case(api, grid)
    return await act(api, case["id"], "accept", case["unit"], {})


async def listed(api: Api, who: Role | str, expect_id: str, **params: Any) -> dict[str, Any]:
    """List cases, waiting briefly for the projection to bring ``expect_id`` in."""
    for _ in range(100):
        response = await api.http.get("/v1/grievances", params=params, headers=api.as_(who))
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        if any(item["id"] == expect_id for item in page["items"]):
            return page
        await asyncio.sleep(0.05)
    raise AssertionError(f"{expect_id} never appeared in the list {params}")


async def notice_kinds(api: Api, who: Role | str, case_id: str, expect: list[str]) -> list[str]:
    """The kinds of a case's notices, waiting briefly for ``expect`` to arrive.

    A notice reaches the read model through the case's notice hand-over, a
    separate delivery workflow, so it can land a moment after the action that
    raised it has answered.
    """
    kinds: list[str] = []
    for _ in range(100):
        response = await api.http.get(
            "/v1/notices", params={"case_id": case_id}, headers=api.as_(who)
        )
        assert response.status_code == 200, response.text
        kinds = [notice["kind"] for notice in response.json()["items"]]
        if kinds == expect:
            return kinds
        await asyncio.sleep(0.05)
    return kinds
