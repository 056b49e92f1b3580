"""``GET /v1/notices``: units see their own, the command centre and inspectors see all."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest

from grievance_flow.store.notices import (
    mark_delivered,
    mark_failed,
    mark_retrying,
    record_notice,
)
from grievance_flow.workflows.contracts import Notice, NoticeKind, Role
from tests.api.conftest import Api
from tests.store.factories import T0, make_notice


@pytest.fixture
async def case_notices(api: Api) -> list[Notice]:
    """Three notices about one new case, oldest first: to grid-1, to comm-1, to the centre."""
    case_id = f"grievance-T-{uuid.uuid4().hex[:12]}"
    made = [
        make_notice(f"{case_id}/chase/accept/1", case_id=case_id, unit="grid-1", at=T0),
        make_notice(
            f"{case_id}/escalation/accept/1",
            case_id=case_id,
            kind=NoticeKind.ESCALATION,
            unit="comm-1",
            at=T0 + timedelta(days=1),
        ),
        make_notice(
            f"{case_id}/escalation/accept/2",
            case_id=case_id,
            kind=NoticeKind.ESCALATION,
            unit=None,
            at=T0 + timedelta(days=2),
        ),
    ]
    for notice in made:
        await asyncio.to_thread(record_notice, api.engine, notice)
    return made


async def notices(api: Api, who: Role | str, *, expect: int = 200, **params: Any) -> Any:
    response = await api.http.get("/v1/notices", params=params, headers=api.as_(who))
    assert response.status_code == expect, response.text
    return response.json()


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


async def test_a_unit_sees_only_its_own_notices(api: Api, case_notices: list[Notice]) -> None:
    to_grid, to_community, _ = case_notices
    case_id = to_grid.case_id

    page = await notices(api, "grid-1", case_id=case_id)
    assert page == {
        "items": [
            {
                "id": to_grid.id,
                "case_id": case_id,
                "kind": "chase",
                "recipient_role": "unit",
                "recipient_unit": "grid-1",
                "message": to_grid.message,
                "at": "2026-03-02T01:00:00Z",
                "data": to_grid.data,
                "status": "pending",
                "attempts": 0,
                "last_error": None,
                "last_attempt_at": None,
                "delivered_at": None,
            }
        ],
        "total": 1,
    }
    assert _ids(await notices(api, "comm-1", case_id=case_id)) == [to_community.id]
    assert await notices(api, "grid-2", case_id=case_id) == {"items": [], "total": 0}
    # Naming its own unit is allowed; without filters it still sees nothing else.
    assert _ids(await notices(api, "grid-1", unit="grid-1", case_id=case_id)) == [to_grid.id]
    everything = await notices(api, "grid-1", limit=500)
    assert {item["recipient_unit"] for item in everything["items"]} == {"grid-1"}
    assert to_grid.id in _ids(everything)


async def test_a_unit_may_not_read_another_units_notices(
    api: Api, case_notices: list[Notice]
) -> None:
    body = await notices(api, "grid-1", expect=403, unit="comm-1")
    assert body["error"] == "Forbidden"
    assert "own notices" in body["detail"]


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.AUDITOR, Role.ADMIN])
async def test_the_centre_and_inspectors_see_every_notice(
    api: Api, case_notices: list[Notice], role: Role
) -> None:
    case_id = case_notices[0].case_id
    newest_first = [notice.id for notice in reversed(case_notices)]

    page = await notices(api, role, case_id=case_id)
    assert (_ids(page), page["total"]) == (newest_first, 3)
    assert page["items"][0]["recipient_role"] == "dispatcher"
    assert page["items"][0]["recipient_unit"] is None
    assert _ids(await notices(api, role, case_id=case_id, unit="comm-1")) == [newest_first[1]]

    second = await notices(api, role, case_id=case_id, limit=1, offset=1)
    assert (_ids(second), second["total"]) == ([newest_first[1]], 3)


async def test_verifiers_may_not_read_notices(api: Api) -> None:
    body = await notices(api, Role.VERIFIER, expect=403)
    assert body["error"] == "Forbidden"


async def test_the_hotline_reads_only_its_own_notices(api: Api) -> None:
    case_id = f"grievance-hotline-{uuid.uuid4().hex[:8]}"
    to_hotline = make_notice(
        f"{case_id}:9:dup",
        case_id=case_id,
        kind=NoticeKind.MERGED_CLOSED,
        unit=None,
        recipient_role=Role.HOTLINE,
    )
    to_unit = make_notice(f"{case_id}:8", case_id=case_id, unit="grid-1")
    for notice in (to_hotline, to_unit):
        record_notice(api.engine, notice)
    page = await notices(api, Role.HOTLINE, case_id=case_id)
    assert _ids(page) == [to_hotline.id]
    body = await notices(api, Role.HOTLINE, unit="grid-1", expect=403)
    assert body["error"] == "Forbidden"


async def test_a_key_is_required(api: Api) -> None:
    response = await api.http.get("/v1/notices")
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"offset": 2_147_483_648}]
)
async def test_bad_paging_is_refused(api: Api, params: dict[str, int]) -> None:
    body = await notices(api, Role.DISPATCHER, expect=422, **params)
    assert body["error"] == "ValidationError"


async def test_a_huge_offset_is_refused_not_a_server_error(api: Api) -> None:
    body = await notices(api, Role.DISPATCHER, expect=422, offset=2**63)
    assert body["error"] == "ValidationError"


@pytest.mark.parametrize("name", ["case_id", "unit"])
async def test_a_control_character_in_a_filter_is_refused(api: Api, name: str) -> None:
    # PostgreSQL cannot even search for a NUL: it must never reach the query.
    response = await api.http.get(
        "/v1/notices", params={name: "grid-1\x00"}, headers=api.as_(Role.DISPATCHER)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"


async def test_each_notice_shows_how_its_delivery_stands(
    api: Api, case_notices: list[Notice]
) -> None:
    to_grid, to_community, to_centre = case_notices
    first, second = T0 + timedelta(seconds=5), T0 + timedelta(seconds=9)
    await asyncio.to_thread(
        mark_failed, api.engine, to_grid.id, first, "webhook http://h/n answered 404"
    )
    await asyncio.to_thread(
        mark_retrying, api.engine, to_community.id, first, "webhook http://h/n answered 500"
    )
    await asyncio.to_thread(mark_delivered, api.engine, to_community.id, second)

    page = await notices(api, Role.DISPATCHER, case_id=to_grid.case_id)
    shown = {
        item["id"]: (item["status"], item["attempts"], item["last_error"], item["delivered_at"])
        for item in page["items"]
    }
    assert shown == {
        to_grid.id: ("failed", 1, "webhook http://h/n answered 404", None),
        to_community.id: (
            "delivered",
            2,
            "webhook http://h/n answered 500",
            "2026-03-02T01:00:09Z",
        ),
        to_centre.id: ("pending", 0, None, None),
    }


async def test_failed_notices_are_listed_by_status(api: Api, case_notices: list[Notice]) -> None:
    to_grid, to_community, _ = case_notices
    case_id = to_grid.case_id
    for notice in (to_grid, to_community):
        await asyncio.to_thread(mark_failed, api.engine, notice.id, T0, "answered 410")

    failed = await notices(api, Role.AUDITOR, case_id=case_id, status="failed")
    assert (_ids(failed), failed["total"]) == ([to_community.id, to_grid.id], 2)
    # A unit sees its own failed notices, and no one else's.
    assert _ids(await notices(api, "grid-1", case_id=case_id, status="failed")) == [to_grid.id]
    pending = await notices(api, Role.DISPATCHER, case_id=case_id, status="pending")
    assert pending["total"] == 1
    assert await notices(api, Role.DISPATCHER, case_id=case_id, status="delivered") == {
        "items": [],
        "total": 0,
    }


async def test_an_unknown_status_is_refused(api: Api) -> None:
    body = await notices(api, Role.DISPATCHER, expect=422, status="lost")
    assert body["error"] == "ValidationError"


async def test_the_largest_offset_is_accepted(api: Api) -> None:
    page = await notices(api, Role.DISPATCHER, offset=2_147_483_647)
    assert page["items"] == []
