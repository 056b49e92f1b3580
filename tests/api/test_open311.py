"""Open311 GeoReport v2 at /open311/v2, both formats, against the dev server and a real worker.

Every answer is checked against the spec's structure (tests/api/open311_checks.py),
the XML against the JSON, and the filings are posted form-encoded the way
FixMyStreet's ``Open311.pm`` builds them.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from georeport import GeoReport

from grievance_flow.open311.forms import external_id_of
from grievance_flow.workflows.contracts import Role, case_id_for
from tests.api.conftest import Api
from tests.api.helpers import act
from tests.api.open311_checks import (
    DISCOVERY,
    ERRORS,
    POSTED,
    REQUESTS,
    SERVICE_DEFINITION,
    SERVICES,
    TOKEN,
    UPDATE_POSTED,
    UPDATES,
    parse_xml,
    same_content,
    valid_json,
)

BASE = "/open311/v2"
PHONE = "13912345678"
NAME = ("李", "明")
EMAIL = "liming@example.cn"
WATER_TEXT = "小区停水一整天了，水压低，没水做饭"


async def both(api: Api, path: str, document: str, schema: dict[str, Any], **params: Any) -> Any:
    """GET ``path`` as XML and as JSON; check each and that they agree; return the JSON."""
    as_json = await api.http.get(f"{BASE}/{path}.json", params=params)
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"].startswith("application/json")
    valid_json(as_json.json(), schema)
    as_xml = await api.http.get(f"{BASE}/{path}.xml", params=params)
    assert as_xml.status_code == 200, as_xml.text
    assert as_xml.headers["content-type"] == "text/xml; charset=utf-8"
    same_content(parse_xml(as_xml.content, document), as_json.json())
    return as_json.json()


async def refused(response: httpx.Response, status: int, fmt: str = "xml") -> str:
    """Check ``response`` is an Open311 error list with ``status``; return its sentence."""
    assert response.status_code == status, response.text
    errors = parse_xml(response.content, "errors") if fmt == "xml" else response.json()
    valid_json(errors, ERRORS)
    assert errors[0]["code"] == str(status)
    description: str = errors[0]["description"]
    return description


def fms_form(api: Api, **overrides: Any) -> dict[str, Any]:
    """A request as FixMyStreet's Open311.pm posts it (one report, one fixmystreet_id)."""
    form: dict[str, Any] = {
        "api_key": api.keys.roles[Role.HOTLINE],
        "jurisdiction_id": "demo-district",
        "service_code": "water.supply",
        "description": WATER_TEXT,
        "first_name": NAME[0],
        "last_name": NAME[1],
        "phone": PHONE,
        "email": EMAIL,
        "lat": "30.5728",
        "long": "114.2919",
        "address_string": "湖滨路12号",
        "attribute[grid]": "grid-1",
        "attribute[fixmystreet_id]": str(uuid.uuid4().int % 10**8),
        "attribute[closest_address]": "湖滨路12号附近",
        "attribute[supply_scope]": "building",
        "deviceid": "fms-web",
    }
    form.update(overrides)
    return {name: value for name, value in form.items() if value is not None}


async def post_request(api: Api, form: dict[str, Any], fmt: str = "xml") -> httpx.Response:
    return await api.http.post(f"{BASE}/requests.{fmt}", data=form)


async def filed(api: Api, **overrides: Any) -> str:
    response = await post_request(api, fms_form(api, **overrides), "json")
    assert response.status_code == 200, response.text
    valid_json(response.json(), POSTED)
    case_id: str = response.json()[0]["service_request_id"]
    return case_id


async def test_discovery_names_this_endpoint_in_both_formats(api: Api) -> None:
    found = await both(api, "discovery", "discovery", DISCOVERY)
    [endpoint] = found["endpoints"]
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["formats"] == ["text/xml", "application/json"]


async def test_every_category_is_a_service(api: Api) -> None:
    services = await both(api, "services", "services", SERVICES)
    catalogue = api.app.state.resources.domain.catalogue
    assert [s["service_code"] for s in services] == list(catalogue.categories)
    water = next(s for s in services if s["service_code"] == "water.supply")
    assert (water["service_name"], water["group"]) == ("停水及供水故障", "环保水务")
    assert "停水" in water["keywords"].split(",")


async def test_a_service_definition_asks_the_grid_then_its_own_attributes(api: Api) -> None:
    definition = await both(api, "services/water.supply", "service_definition", SERVICE_DEFINITION)
    grid, scope, since = definition["attributes"]
    assert definition["service_code"] == "water.supply"
    assert (grid["code"], grid["datatype"], grid["required"], grid["order"]) == (
        "grid",
        "singlevaluelist",
        True,
        1,
    )
    assert [v["key"] for v in grid["values"]] == [f"grid-{n}" for n in range(1, 9)]
    assert (scope["code"], scope["order"], [v["key"] for v in scope["values"]]) == (
        "supply_scope",
        2,
        ["household", "building", "area"],
    )
    assert (since["datatype"], "values" in since) == ("datetime", False)
    plain = await both(api, "services/city.garbage", "service_definition", SERVICE_DEFINITION)
    assert [a["code"] for a in plain["attributes"]] == ["grid"]


@pytest.mark.parametrize(
    ("path", "status", "fmt"),
    [
        ("services/no.such.json", 404, "json"),
        ("services/no.such.xml", 404, "xml"),
        ("services.csv", 400, "xml"),
        ("nothing.json", 404, "json"),
        ("services", 404, "xml"),
        ("deep/nothing/here.json", 404, "json"),
    ],
)
async def test_unknown_documents_and_formats_are_open311_errors(
    api: Api, path: str, status: int, fmt: str
) -> None:
    await refused(await api.http.get(f"{BASE}/{path}"), status, fmt)


async def test_a_fixmystreet_form_files_one_case_however_often_it_is_retried(api: Api) -> None:
    form = fms_form(api)
    first = await post_request(api, form)
    assert first.status_code == 200, first.text
    [posted] = parse_xml(first.content, "service_requests")
    case_id = posted["service_request_id"]
    fields = [(name, str(value)) for name, value in form.items()]
    assert case_id == case_id_for(external_id_of(fields, None))
    again = await post_request(api, form, "json")
    assert again.json()[0]["service_request_id"] == case_id

    case = (
        await api.http.get(f"/v1/grievances/{case_id}", headers=api.as_(Role.DISPATCHER))
    ).json()
    assert (case["channel"], case["location"]["grid"], case["category_hint"]) == (
        "open311",
        "grid-1",
        "water.supply",
    )
    assert case["reporter"] == {"name": "李 明", "phone": PHONE, "email": EMAIL}
    # What the service asks is kept; what the client adds for itself is not.
    assert case["attributes"] == {"supply_scope": "building"}
    assert (case["location"]["lat"], case["location"]["lon"]) == (30.5728, 114.2919)
    events = (
        await api.http.get(f"/v1/grievances/{case_id}/events", headers=api.as_(Role.DISPATCHER))
    ).json()
    assert [e["type"] for e in events].count("reported") == 1


async def test_a_form_without_a_client_id_is_idempotent_on_its_contents(api: Api) -> None:
    form = fms_form(
        api, **{"attribute[fixmystreet_id]": None, "description": f"{WATER_TEXT} {uuid.uuid4()}"}
    )
    first = await filed_form(api, form)
    assert await filed_form(api, form) == first
    other = dict(form, description=form["description"] + "。")
    assert await filed_form(api, other) != first


async def filed_form(api: Api, form: dict[str, Any]) -> str:
    response = await post_request(api, form, "json")
    assert response.status_code == 200, response.text
    case_id: str = response.json()[0]["service_request_id"]
    return case_id


async def test_a_multipart_form_with_a_photo_files_too(api: Api) -> None:
    files = {"photo1": ("leak.jpg", b"\xff\xd8\xff", "image/jpeg")}
    form = fms_form(api, **{"attribute[supply_scope]": None})
    response = await api.http.post(f"{BASE}/requests.json", data=form, files=files)
    assert response.status_code == 200, response.text
    valid_json(response.json(), POSTED)


@pytest.mark.parametrize(
    ("overrides", "status", "says"),
    [
        ({"service_code": "no.such"}, 400, "service_code 'no.such'"),
        ({"service_code": None}, 400, "service_code is required"),
        ({"address_string": None, "lat": None, "long": None}, 400, "A location is required"),
        ({"lat": "91", "long": "1"}, 400, "lat must be within"),
        ({"lat": "30.1", "long": None}, 400, "lat and long go together"),
        ({"attribute[grid]": None}, 400, "attribute[grid] is required"),
        ({"attribute[grid]": "comm-1"}, 400, "attribute[grid] is not one of its values"),
        ({"attribute[supply_scope]": "street"}, 400, "attribute[supply_scope]"),
        ({"attribute[since]": "yesterday"}, 400, "attribute[since] must be a W3C datetime"),
        ({"description": "漏" * 4001}, 400, "description is longer than 4000"),
        ({"description": ""}, 400, "description is required"),
        ({"api_key": None}, 403, "api_key is required"),
        ({"api_key": "gf_not-a-key"}, 403, "api_key is not a valid key"),
    ],
)
async def test_bad_forms_are_refused_with_the_field_named_and_file_nothing(
    api: Api, overrides: dict[str, Any], status: int, says: str
) -> None:
    form = fms_form(api, **overrides)
    for fmt in ("xml", "json"):
        sentence = await refused(await post_request(api, form, fmt), status, fmt)
        assert says in sentence
    assert PHONE not in sentence
    # The case this form would have filed does not exist.
    fields = [(name, str(value)) for name, value in form.items()]
    would_be = case_id_for(external_id_of(fields, None))
    read = await api.http.get(f"/v1/grievances/{would_be}", headers=api.as_(Role.DISPATCHER))
    assert read.status_code == 404


async def test_only_a_hotline_key_files(api: Api) -> None:
    form = fms_form(api, api_key=api.keys.roles[Role.DISPATCHER])
    assert "hotline" in await refused(await post_request(api, form), 403)


async def test_a_json_body_is_not_a_form(api: Api) -> None:
    response = await api.http.post(f"{BASE}/requests.json", json=fms_form(api))
    assert "form-encoded" in await refused(response, 400, "json")


async def test_requests_show_no_personal_data_and_the_words_only_with_a_key(api: Api) -> None:
    case_id = await filed(api)
    with_key = await both(
        api,
        "requests",
        "service_requests",
        REQUESTS,
        service_request_id=case_id,
        api_key=api.keys.roles[Role.HOTLINE],
    )
    [request] = with_key
    assert request["service_request_id"] == case_id
    assert (request["service_code"], request["service_name"]) == ("water.supply", "停水及供水故障")
    assert request["description"] == WATER_TEXT
    assert (request["address"], request["lat"], request["long"]) == (
        "湖滨路12号",
        30.5728,
        114.2919,
    )
    [anonymous] = await both(
        api, "requests", "service_requests", REQUESTS, service_request_id=case_id
    )
    assert (anonymous["description"], anonymous["address"], anonymous["lat"]) == (None, None, None)
    assert anonymous["status"] == request["status"] == "open"
    for fmt in ("xml", "json"):
        raw = await api.http.get(
            f"{BASE}/requests/{case_id}.{fmt}", params={"api_key": api.keys.roles[Role.HOTLINE]}
        )
        for personal in (PHONE, EMAIL, NAME[0] + " " + NAME[1], PHONE[-4:]):
            assert personal not in raw.text


async def test_a_unit_key_or_a_bad_key_may_not_read_requests(api: Api) -> None:
    for key, says in ((api.keys.units["grid-1"], "unit key"), ("gf_nope", "not a valid key")):
        response = await api.http.get(f"{BASE}/requests.json", params={"api_key": key})
        assert says in await refused(response, 403, "json")


async def test_request_filters_window_and_paging(api: Api) -> None:
    key = {"api_key": api.keys.roles[Role.DISPATCHER]}
    garbage_form = {"service_code": "city.garbage", "description": "楼下垃圾没人清运，臭味很大"}
    first, second = await filed(api), await filed(api, **garbage_form)
    await act(api, first, "withdraw", Role.HOTLINE, {"reason": "已自行解决"})
    now = datetime.now(UTC)
    window = {
        "start_date": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now + timedelta(minutes=1)).isoformat(),
    }

    async def ids(**params: Any) -> list[str]:
        found = await both(api, "requests", "service_requests", REQUESTS, **key, **params)
        return [request["service_request_id"] for request in found]

    assert {first, second} <= set(await ids(**window))
    for _ in range(100):  # the read model learns of the withdrawal a moment later
        closed = await ids(status="closed", **window)
        if first in closed:
            break
        await asyncio.sleep(0.05)
    assert first in closed and second not in closed
    assert second in await ids(status="open,closed", **window)
    garbage = await ids(service_code="city.garbage", **window)
    assert second in garbage and first not in garbage
    assert await ids(service_request_id=f"{second},{first}", status="open") != []
    earlier = {
        "start_date": "2026-01-01T00:00:00+08:00",
        "end_date": "2026-02-01T00:00:00+08:00",
    }
    assert await ids(**earlier) == []
    page_one, page_two = await ids(page_size=1, **window), await ids(page_size=1, page=2, **window)
    assert len(page_one) == len(page_two) == 1 and page_one != page_two


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "yesterday"}, "start_date must be a W3C datetime"),
        ({"end_date": "2026-11-01T08:00:00"}, "must carry its offset"),
        ({"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, "before"),
        ({"status": "pending"}, "status must be open or closed"),
        ({"page_size": "0"}, "page_size must be a whole number"),
        ({"page": "x"}, "page must be a whole number"),
        ({"page_size": "1001"}, "page_size must be a whole number"),
    ],
)
async def test_bad_request_queries_are_open311_errors(
    api: Api, params: dict[str, str], says: str
) -> None:
    for fmt in ("xml", "json"):
        response = await api.http.get(f"{BASE}/requests.{fmt}", params=params)
        assert says in await refused(response, 400, fmt)
    updates = await api.http.get(f"{BASE}/servicerequestupdates.json", params=params)
    if "status" not in params:
        assert says in await refused(updates, 400, "json")


async def test_one_request_and_its_token(api: Api) -> None:
    case_id = await filed(api)
    [one] = await both(api, f"requests/{case_id}", "service_requests", REQUESTS)
    assert one["service_request_id"] == case_id
    token = await api.http.get(f"{BASE}/tokens/{case_id}.json")
    valid_json(token.json(), TOKEN)
    assert token.json() == [{"service_request_id": case_id, "token": case_id}]
    for path in ("requests/grievance-none.xml", "tokens/grievance-none.json"):
        await refused(await api.http.get(f"{BASE}/{path}"), 404, path.rpartition(".")[2])


async def wait_for_stage(api: Api, case_id: str, stage: str) -> dict[str, Any]:
    for _ in range(200):
        case: dict[str, Any] = (
            await api.http.get(f"/v1/grievances/{case_id}", headers=api.as_(Role.DISPATCHER))
        ).json()
        if case["stage"] == stage:
            return case
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} never reached {stage}")


async def test_an_outsider_follows_a_request_to_fixed_in_both_formats(api: Api) -> None:
    started = datetime.now(UTC) - timedelta(seconds=5)
    case_id = await filed(api)
    case = await wait_for_stage(api, case_id, "accept")  # auto-dispatched: 停水, 水压低
    unit = case["unit"]
    await act(api, case_id, "accept", unit, {})
    await act(api, case_id, "progress", unit, {"note": f"已派人抢修，联系电话{PHONE}"})
    await act(api, case_id, "complete", unit, {"result": "resolved", "note": "已恢复供水"})
    await act(
        api,
        case_id,
        "recheck",
        Role.VERIFIER,
        {"passed": True, "satisfaction": "satisfied"},
    )
    await wait_for_stage(api, case_id, "closed")
    window = {
        "start_date": started.isoformat(),
        "end_date": (datetime.now(UTC) + timedelta(seconds=5)).isoformat(),
        "api_key": api.keys.roles[Role.HOTLINE],
    }
    for _ in range(100):
        updates = await both(
            api, "servicerequestupdates", "service_request_updates", UPDATES, **window
        )
        mine = [u for u in updates if u["service_request_id"] == case_id]
        if mine and mine[-1]["status"] == "FIXED":
            break
        await asyncio.sleep(0.05)
    statuses = [u["status"] for u in mine]
    assert statuses[0] == "OPEN" and statuses[-1] == "FIXED"
    assert "IN_PROGRESS" in statuses and "ACTION_SCHEDULED" in statuses
    assert statuses.index("IN_PROGRESS") < statuses.index("ACTION_SCHEDULED")
    assert [u["update_id"] for u in mine] == [f"{case_id}:{n}" for n in range(1, len(mine) + 1)]
    progress = next(u for u in mine if u["description"].startswith("办理进展"))
    assert PHONE not in progress["description"] and "***" in progress["description"]
    for update in updates:
        at = datetime.fromisoformat(update["updated_datetime"])
        assert started - timedelta(seconds=1) <= at  # only what the window asked for
    [request] = await both(api, f"requests/{case_id}", "service_requests", REQUESTS)
    assert (request["status"], request["expected_datetime"]) == ("closed", None)


def fms_update(api: Api, case_id: str, **overrides: Any) -> dict[str, Any]:
    """An update as FixMyStreet's Open311.pm posts it (its own comment id as update_id)."""
    form: dict[str, Any] = {
        "api_key": api.keys.roles[Role.HOTLINE],
        "jurisdiction_id": "demo-district",
        "service_request_id": case_id,
        "update_id": str(uuid.uuid4().int % 10**8),
        "updated_datetime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "OPEN",
        "description": "今天又停水了，请尽快处理",
        "first_name": NAME[0],
        "last_name": "-",
        "email": EMAIL,
        "media_url": ["https://fms.example/photo/1.jpeg", "https://fms.example/photo/2.jpeg"],
    }
    form.update(overrides)
    return {name: value for name, value in form.items() if value is not None}


async def test_a_client_update_is_a_supplement_recorded_once(api: Api) -> None:
    case_id = await filed(api)
    form = fms_update(api, case_id, status="REOPEN")
    first = await api.http.post(f"{BASE}/servicerequestupdates.xml", data=form)
    assert first.status_code == 200, first.text
    as_xml = parse_xml(first.content, "service_request_updates")
    valid_json(as_xml, UPDATE_POSTED)
    [answer] = as_xml
    again = await api.http.post(f"{BASE}/servicerequestupdates.json", data=form)
    valid_json(again.json(), UPDATE_POSTED)
    assert again.json() == [answer]

    events = (
        await api.http.get(f"/v1/grievances/{case_id}/events", headers=api.as_(Role.DISPATCHER))
    ).json()
    [supplement] = [e for e in events if e["type"] == "supplemented"]
    assert answer["update_id"] == f"{case_id}:{supplement['seq']}"
    assert supplement["data"] == {
        "note": "今天又停水了，请尽快处理",
        "attachments": form["media_url"],
        "source": "open311",
        "reference": form["update_id"],
        "reported_status": "REOPEN",
    }
    reused = dict(form, description="另一件事")
    response = await api.http.post(f"{BASE}/servicerequestupdates.json", data=reused)
    assert "already used" in await refused(response, 400, "json")


@pytest.mark.parametrize(
    ("overrides", "status", "says"),
    [
        ({"update_id": None}, 400, "update_id is required"),
        ({"updated_datetime": "now"}, 400, "updated_datetime must be a W3C datetime"),
        ({"status": "ON_FIRE"}, 400, "'ON_FIRE' is not an Open311 update status"),
        ({"description": ""}, 400, "description is required"),
        ({"service_request_id": "grievance-none"}, 404, ""),
        ({"api_key": None}, 403, "api_key is required"),
    ],
)
async def test_bad_client_updates_are_refused(
    api: Api, overrides: dict[str, Any], status: int, says: str
) -> None:
    case_id = await filed(api)
    form = fms_update(api, case_id, **overrides)
    response = await api.http.post(f"{BASE}/servicerequestupdates.xml", data=form)
    assert says in await refused(response, status)


async def test_an_update_of_a_closed_request_is_refused_with_the_reason(api: Api) -> None:
    case_id = await filed(api)
    await act(api, case_id, "withdraw", Role.HOTLINE, {"reason": "不需要了"})
    response = await api.http.post(
        f"{BASE}/servicerequestupdates.json", data=fms_update(api, case_id)
    )
    assert "closed" in await refused(response, 400, "json")


async def test_a_third_party_georeport_client_reads_services_and_requests(api: Api) -> None:
    """georeport (PyPI) against the app over real HTTP, as an outside integrator would."""
    case_id = await filed(api)
    config = uvicorn.Config(api.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        client = GeoReport(f"http://127.0.0.1:{port}/open311/v2")

        def read() -> tuple[Any, Any, Any, Any]:
            return (
                client.get_service_list(),
                client.get_service_definition("water.supply"),
                client.get_service_requests(status="open"),
                client.get_service_request(case_id),
            )

        services, definition, requests, one = await asyncio.to_thread(read)
    finally:
        server.should_exit = True
        await serving
    assert "water.supply" in [s["service_code"] for s in services]
    assert definition["attributes"][0]["code"] == "grid"
    assert case_id in [r["service_request_id"] for r in requests]
    assert one["service_request_id"] == case_id and one["description"] is None
