"""Timelines in pages (issue 8 item 8) and the cases a summoned unit is involved in (item 9)."""

from __future__ import annotations

from typing import Any

import httpx

from grievance_flow.store.projection import project_case
from grievance_flow.workflows.contracts import Role, Stage
from tests.api.conftest import Api
from tests.api.helpers import act, handled_case, listed
from tests.store.factories import make_case, make_events


def next_after(response: httpx.Response) -> int | None:
    header = response.headers.get("X-Next-After-Seq")
    return None if header is None else int(header)


async def all_pages(api: Api, case_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Follow the ``Link: rel="next"`` headers from the first page; events and page count."""
    url: str | None = f"/v1/grievances/{case_id}/events?limit={limit}"
    events: list[dict[str, Any]] = []
    pages = 0
    while url is not None:
        response = await api.http.get(url, headers=api.as_(Role.AUDITOR))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page) <= limit
        events += page
        pages += 1
        link = response.links.get("next")
        url = None if link is None else link["url"]
        if url is not None:
            assert next_after(response) == page[-1]["seq"]
    return events, pages


async def test_the_timeline_comes_in_pages(api: Api) -> None:
    case = await handled_case(api)
    for n in range(4):
        case = await act(api, case["id"], "progress", "grid-1", {"note": f"第{n}次"})
    whole = await api.http.get(f"/v1/grievances/{case['id']}/events", headers=api.as_(Role.AUDITOR))
    assert whole.status_code == 200
    # A case of fewer than 1,000 events comes whole, with no next page.
    assert "Link" not in whole.headers and next_after(whole) is None
    everything = whole.json()
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    assert len(everything) >= 8

    paged, pages = await all_pages(api, case["id"], limit=3)
    assert paged == everything
    assert pages == -(-len(everything) // 3)

    tail = await api.http.get(
        f"/v1/grievances/{case['id']}/events",
        params={"after_seq": len(everything) - 1},
        headers=api.as_("grid-1"),
    )
    assert tail.json() == everything[-1:] and next_after(tail) is None
    beyond = await api.http.get(
        f"/v1/grievances/{case['id']}/events",
        params={"after_seq": 10_000},
        headers=api.as_(Role.AUDITOR),
    )
    assert (beyond.status_code, beyond.json()) == (200, [])


async def test_paging_bounds_are_checked(api: Api) -> None:
    case = await handled_case(api)
    for params in ({"limit": 0}, {"limit": 501}, {"after_seq": -1}, {"after_seq": 2**63}):
        response = await api.http.get(
            f"/v1/grievances/{case['id']}/events", params=params, headers=api.as_(Role.AUDITOR)
        )
        assert response.status_code == 422, (params, response.text)
        assert set(response.json()) == {"error", "detail"}


async def test_a_case_temporal_let_go_is_paged_from_the_read_model(api: Api) -> None:
    # Closed and past retention: only the read model knows the case.
    case = make_case("gone-from-temporal", stage=Stage.CLOSED, last_seq=5)
    events = make_events(5)
    project_case(api.engine, case, events)
    paged, pages = await all_pages(api, case.id, limit=2)
    assert [e["seq"] for e in paged] == [1, 2, 3, 4, 5]
    assert pages == 3


async def test_summoned_units_list_the_cases_they_are_summoned_to(api: Api) -> None:
    case = await handled_case(api, grid="grid-2")
    case = await act(
        api, case["id"], "whistle", "grid-2", {"units": ["dept-wj"], "reason": "需要卫监配合"}
    )
    # The summoned department finds it in its own list, and with involving=me / its id.
    await listed(api, "dept-wj", case["id"])
    await listed(api, "dept-wj", case["id"], involving="me")
    await listed(api, "dept-wj", case["id"], involving="dept-wj")
    page = await listed(api, Role.DISPATCHER, case["id"], involving="dept-wj")
    assert all(item["unit"] == "dept-wj" or "dept-wj" in item["co_units"] for item in page["items"])
    # unit= keeps meaning "assigned to".
    assigned = await api.http.get(
        "/v1/grievances", params={"unit": "dept-wj"}, headers=api.as_(Role.DISPATCHER)
    )
    assert case["id"] not in [item["id"] for item in assigned.json()["items"]]
    mine = await api.http.get(
        "/v1/grievances", params={"unit": "dept-wj"}, headers=api.as_("dept-wj")
    )
    assert case["id"] not in [item["id"] for item in mine.json()["items"]]
    # The assigning unit still sees it; nobody else's unit lists it or peeks at others.
    await listed(api, "grid-2", case["id"])
    other = await api.http.get("/v1/grievances", headers=api.as_("dept-cg"))
    assert case["id"] not in [item["id"] for item in other.json()["items"]]
    for params in ({"involving": "dept-wj"}, {"unit": "dept-wj"}):
        refused = await api.http.get("/v1/grievances", params=params, headers=api.as_("dept-cg"))
        assert refused.status_code == 403, refused.text
    me_without_unit = await api.http.get(
        "/v1/grievances", params={"involving": "me"}, headers=api.as_(Role.DISPATCHER)
    )
    assert me_without_unit.status_code == 422
