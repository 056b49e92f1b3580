"""Who did it (SPEC §7): every event names the key's holder and id; keys are issued and revoked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from grievance_flow.store.queries import case_events
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import grievance_body

HOLDERS = {
    "hotline": "12345坐席 陈一",
    "dispatcher": "指挥中心 派单员 刘二",
    "verifier": "回访员 张三",
    "grid-1": "湖滨一网格 网格员 李四",
    "grid-2": "湖滨二网格 网格员 王五",
}


class Held:
    """Keys issued through the admin API, one per actor of the scenario."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.keys: dict[str, dict[str, Any]] = {}

    async def issue(self) -> None:
        for who, holder in HOLDERS.items():
            role, unit = ("unit", who) if who.startswith("grid") else (who, None)
            response = await self.api.http.post(
                "/v1/keys",
                json={"role": role, "unit": unit, "holder": holder},
                headers=self.api.as_(Role.ADMIN),
            )
            assert response.status_code == 201, response.text
            self.keys[who] = response.json()

    def by(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]['key']}"}

    async def act(self, case_id: str, action: str, who: str, body: dict[str, Any]) -> Any:
        response = await self.api.http.post(
            f"/v1/grievances/{case_id}/{action}", json=body, headers=self.by(who)
        )
        assert response.status_code == 200, (action, response.text)
        return response.json()

    async def file(self, **body: Any) -> str:
        response = await self.api.http.post(
            "/v1/grievances", json=grievance_body(**body), headers=self.by("hotline")
        )
        assert response.status_code == 201, response.text
        case_id: str = response.json()["id"]
        return case_id


VENDING = {"category": "city.street-vending"}


async def test_every_event_names_the_keys_holder_and_id(api: Api) -> None:
    held = Held(api)
    await held.issue()
    a = await held.file()
    merged = await held.file()
    await held.act(a, "dispatch", "dispatcher", VENDING)
    await held.act(a, "return", "grid-1", {"reason": "不属本网格"})
    await held.act(a, "dispatch", "dispatcher", VENDING)
    await held.act(merged, "merge", "dispatcher", {"into": a})
    await held.act(a, "accept", "grid-1", {})
    await held.act(a, "progress", "grid-1", {"note": "已到现场"})
    await held.act(a, "whistle", "grid-1", {"units": ["grid-2"], "reason": "需协同"})
    await held.act(a, "report-in", "grid-2", {"note": "已报到"})
    await held.act(a, "extend", "grid-1", {"working_days": 2, "reason": "需协调"})
    await held.act(a, "decide-extension", "dispatcher", {"approve": True})
    await held.act(a, "supervise", "dispatcher", {"note": "请加快"})
    await held.act(a, "supplement", "hotline", {"note": "市民再次来电"})
    await held.act(a, "complete", "grid-1", {"result": "resolved", "note": "已清理"})
    await held.act(a, "recheck", "verifier", {"passed": False, "satisfaction": "unsatisfied"})
    await held.act(a, "complete", "grid-1", {"result": "resolved", "note": "再次清理"})
    await held.act(a, "recheck", "verifier", {"passed": True, "satisfaction": "satisfied"})
    rejected = await held.file()
    await held.act(rejected, "reject", "dispatcher", {"reason": "不属受理范围"})
    withdrawn = await held.file()
    await held.act(withdrawn, "withdraw", "hotline", {"reason": "已解决"})
    arbitrated = await held.file()
    for _ in range(2):
        await held.act(arbitrated, "dispatch", "dispatcher", VENDING)
        await held.act(arbitrated, "return", "grid-1", {"reason": "不属本网格"})
    await held.act(arbitrated, "arbitrate", "dispatcher", {"unit": "grid-1"})

    expected = {
        (who if who.startswith("grid") else None, key["role"]): (key["holder"], key["key_id"])
        for who, key in held.keys.items()
    }
    seen_types: set[str] = set()
    for case_id in (a, merged, rejected, withdrawn, arbitrated):
        response = await api.http.get(
            f"/v1/grievances/{case_id}/events", headers=api.as_(Role.AUDITOR)
        )
        for event in response.json():
            actor = event["actor"]
            got = (actor["holder"], actor["key_id"])
            if actor["role"] == "system":
                assert got == (None, None), event
            else:
                assert got == expected[(actor.get("unit"), actor["role"])], event
                seen_types.add(event["type"])
    assert {
        "reported", "dispatched", "returned", "merged", "accepted", "progress", "whistled",
        "reported_in", "extension_requested", "extension_decided", "supervised",
        "supplemented", "completed", "rechecked", "rejected", "withdrawn", "arbitrated",
    } <= seen_types  # fmt: skip

    # The read model keeps the holder too, for when Temporal has let the case go.
    for _ in range(100):
        stored = case_events(api.engine, a)
        if stored and stored[-1].type.value == "closed":
            break
        await asyncio.sleep(0.05)
    accepted = next(event for event in stored if event.type.value == "accepted")
    assert (accepted.actor.holder, accepted.actor.key_id) == expected[("grid-1", "unit")]


async def test_the_body_cannot_claim_another_holder(api: Api) -> None:
    held = Held(api)
    await held.issue()
    response = await api.http.post(
        "/v1/grievances",
        json={**grievance_body(), "actor": {"holder": "冒名者", "key_id": "k_forged"}},
        headers=held.by("hotline"),
    )
    # Unknown fields are either refused or ignored; never taken as the actor.
    if response.status_code == 201:
        events = await api.http.get(
            f"/v1/grievances/{response.json()['id']}/events", headers=api.as_(Role.AUDITOR)
        )
        reported = events.json()[0]["actor"]
        assert reported["holder"] == HOLDERS["hotline"] != "冒名者"
    else:
        assert response.status_code == 422


async def test_a_revoked_key_is_refused_on_its_next_request(api: Api) -> None:
    issued = await api.http.post(
        "/v1/keys",
        json={"role": "dispatcher", "holder": "临时派单员"},
        headers=api.as_(Role.ADMIN),
    )
    assert issued.status_code == 201
    key = issued.json()
    assert key["key"].startswith("gf_") and key["revoked_at"] is None
    headers = {"Authorization": f"Bearer {key['key']}"}
    assert (await api.http.get("/v1/grievances", headers=headers)).status_code == 200
    revoked = await api.http.delete(f"/v1/keys/{key['key_id']}", headers=api.as_(Role.ADMIN))
    assert revoked.status_code == 204
    refused = await api.http.get("/v1/grievances", headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (401, "Unauthorized")
    listed = await api.http.get("/v1/keys", headers=api.as_(Role.ADMIN))
    (entry,) = [k for k in listed.json() if k["key_id"] == key["key_id"]]
    assert entry["revoked_at"] is not None and "key" not in entry
    again = await api.http.delete(f"/v1/keys/{key['key_id']}", headers=api.as_(Role.ADMIN))
    assert again.status_code == 204
    missing = await api.http.delete("/v1/keys/k_0000000000000000", headers=api.as_(Role.ADMIN))
    assert missing.status_code == 404


@pytest.mark.parametrize("who", [Role.DISPATCHER, Role.AUDITOR, Role.HOTLINE])
async def test_only_an_admin_manages_keys(api: Api, who: Role) -> None:
    assert (await api.http.get("/v1/keys", headers=api.as_(who))).status_code == 403
    created = await api.http.post(
        "/v1/keys", json={"role": "admin", "holder": "x"}, headers=api.as_(who)
    )
    assert created.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"role": "unit", "holder": "某网格"},
        {"role": "unit", "unit": "nowhere", "holder": "某网格"},
        {"role": "dispatcher", "unit": "grid-1", "holder": "x"},
        {"role": "system", "holder": "x"},
        {"role": "dispatcher", "holder": "   "},
        {"role": "dispatcher"},
    ],
)
async def test_a_key_that_cannot_be_issued_is_refused(api: Api, body: dict[str, Any]) -> None:
    response = await api.http.post("/v1/keys", json=body, headers=api.as_(Role.ADMIN))
    assert response.status_code == 422, response.text
