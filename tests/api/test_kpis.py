"""Who may read KPIs, and what a malformed KPI request is told (SPEC §11)."""

from __future__ import annotations

import pytest

from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api


@pytest.mark.parametrize("who", [Role.HOTLINE, Role.VERIFIER])
async def test_roles_without_kpis_are_refused(api: Api, who: Role) -> None:
    for path in ("/v1/kpis", "/v1/kpis/ranking"):
        response = await api.http.get(path, headers=api.as_(who))
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "Forbidden"


async def test_no_key_is_401(api: Api) -> None:
    assert (await api.http.get("/v1/kpis")).status_code == 401


async def test_a_unit_may_not_ask_for_another_units_kpis(api: Api) -> None:
    response = await api.http.get("/v1/kpis", params={"unit": "grid-2"}, headers=api.as_("grid-1"))
    assert response.status_code == 403
    assert "grid-1" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"from": "2026-13-01"}, "from must be a date"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "must be before to"),
        ({"unit": "nowhere"}, "unit 'nowhere' is not in the catalogue"),
        ({"category": "no.such"}, "category 'no.such' is not in the catalogue"),
        ({"group_by": "street"}, "group_by"),
        ({"group_by": "day", "from": "2025-01-01", "to": "2026-06-01"}, "at most 400 days"),
    ],
)
async def test_malformed_kpi_requests_say_why(
    api: Api, params: dict[str, str], detail: str
) -> None:
    response = await api.http.get("/v1/kpis", params=params, headers=api.as_(Role.DISPATCHER))
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "detail"),
    [({"month": "2026-13"}, "a month is written YYYY-MM"), ({"period": "week"}, "period")],
)
async def test_malformed_ranking_requests_say_why(
    api: Api, params: dict[str, str], detail: str
) -> None:
    response = await api.http.get(
        "/v1/kpis/ranking", params=params, headers=api.as_(Role.DISPATCHER)
    )
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]


async def test_a_month_with_no_case_has_an_empty_ranking_in_beijing_time(api: Api) -> None:
    response = await api.http.get(
        "/v1/kpis/ranking", params={"month": "2020-02"}, headers=api.as_(Role.AUDITOR)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == []
    assert body["range"] == {
        "from": "2020-02-01T00:00:00+08:00",
        "to": "2020-03-01T00:00:00+08:00",
        "timezone": "Asia/Shanghai",
    }


async def test_csv_of_an_empty_range_is_its_header(api: Api) -> None:
    response = await api.http.get(
        "/v1/kpis",
        params={"from": "2020-01-01", "to": "2020-01-02", "group_by": "category"},
        headers={**api.as_(Role.ADMIN), "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.text.splitlines()[0].startswith("key,name,cases,accepted_on_time_rate,")
    assert len(response.text.splitlines()) == 1
