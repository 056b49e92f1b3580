"""The SLA acceptance path on the real dev server, in real time.

A catalogue whose SLA class is set in seconds; a case left alone after dispatch
shows warning, overdue, chase and escalation in that order, on time, with the
parent unit now responsible — through the HTTP API, with nothing skipped.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data
from grievance_flow.deadlines.calendar import WorkingCalendar
from grievance_flow.runtime import Domain
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api, running_api
from tests.api.helpers import act, file_case, notice_kinds

SLA_STEPS = ["sla_warning", "sla_overdue", "chased", "escalated", "supervised"]


def fast_domain() -> Domain:
    """Accept within 3 s, warn at half the time, escalate 2 s past the deadline."""
    data, _ = read_catalogue_data(None)
    data = copy.deepcopy(data)
    for name in data["sla_classes"]:
        data["sla_classes"][name] |= {"accept": {"seconds": 3}, "handle": {"seconds": 3}}
    data["policy"] |= {"warn_at": 0.5, "escalate_after": {"seconds": 2}}
    catalogue = parse_catalogue(data, source="fast")
    return Domain(catalogue=catalogue, calendar=WorkingCalendar(catalogue.calendar_overrides))


@pytest.fixture(scope="module")
async def fast_api(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    data_dir: Path = tmp_path_factory.mktemp("fast-api")
    async with running_api(dev_env, data_dir, fast_domain()) as running:
        yield running


async def events_of(api: Api, case_id: str) -> list[dict[str, Any]]:
    response = await api.http.get(f"/v1/grievances/{case_id}/events", headers=api.as_(Role.AUDITOR))
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def test_left_alone_after_dispatch_it_warns_chases_and_escalates_on_time(
    fast_api: Api,
) -> None:
    case = await file_case(fast_api)
    case = await act(
        fast_api, case["id"], "dispatch", Role.DISPATCHER, {"category": "city.street-vending"}
    )
    assert case["unit"] == "grid-1"
    clock = case["deadlines"]["accept"]

    for _ in range(100):  # escalation is due 5 s after dispatch
        events = await events_of(fast_api, case["id"])
        if any(event["type"] == "escalated" for event in events):
            break
        await asyncio.sleep(0.1)
    sla = [event for event in events if event["type"] in SLA_STEPS]
    assert [event["type"] for event in sla] == SLA_STEPS
    planned = [clock["warn_at"], clock["due_at"], clock["due_at"], clock["escalate_at"]]
    for event, due in zip(sla, planned, strict=False):
        late = (datetime.fromisoformat(event["at"]) - datetime.fromisoformat(due)).total_seconds()
        assert 0 <= late < 1.5, (event["type"], late)
    assert sla[2]["data"]["recipient"] == "grid-1"
    assert (sla[3]["data"]["from"], sla[3]["data"]["to"]) == ("grid-1", "comm-1")

    case = (
        await fast_api.http.get(
            f"/v1/grievances/{case['id']}", headers=fast_api.as_(Role.DISPATCHER)
        )
    ).json()
    assert (case["unit"], case["tier"], case["stage"]) == ("comm-1", "C", "accept")
    assert case["supervised"] is True and case["escalations"] == 1
    assert case["overdue_stages"] == ["accept"]
    # The old unit has lost the case; the parent signs for it afresh.
    await act(fast_api, case["id"], "accept", "grid-1", {}, expect=403)
    case = await act(fast_api, case["id"], "accept", "comm-1", {})
    assert case["stage"] == "handle"
    await act(fast_api, case["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})


async def test_overdue_filter_lists_late_open_cases(fast_api: Api) -> None:
    case = await file_case(fast_api)
    await act(
        fast_api, case["id"], "dispatch", Role.DISPATCHER, {"category": "city.street-vending"}
    )
    await asyncio.sleep(3.2)
    response = await fast_api.http.get(
        "/v1/grievances", params={"overdue": "true"}, headers=fast_api.as_(Role.DISPATCHER)
    )
    items = response.json()["items"]
    assert case["id"] in [item["id"] for item in items]
    assert all(item["sla"]["state"] == "overdue" for item in items if item["sla"])
    await act(fast_api, case["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})


async def test_extension_through_the_api(fast_api: Api) -> None:
    case = await file_case(fast_api)
    await act(
        fast_api, case["id"], "dispatch", Role.DISPATCHER, {"category": "city.street-vending"}
    )
    # The handle clock here is 3 s: ask at once, before it runs out.
    case = await act(fast_api, case["id"], "accept", "grid-1", {})
    ask = {"working_days": 2, "reason": "需协调水务部门"}
    case = await act(fast_api, case["id"], "extend", "grid-1", ask)
    assert case["extension"]["working_days"] == 2
    await act(fast_api, case["id"], "extend", "grid-1", ask, expect=409)
    await act(fast_api, case["id"], "decide-extension", "grid-1", {"approve": True}, expect=403)
    before = case["deadlines"]["handle"]["due_at"]
    case = await act(fast_api, case["id"], "decide-extension", Role.DISPATCHER, {"approve": True})
    assert case["extension"] is None and case["deadlines"]["handle"]["due_at"] > before
    again = await fast_api.http.post(
        f"/v1/grievances/{case['id']}/decide-extension",
        json={"approve": True},
        headers=fast_api.as_(Role.DISPATCHER),
    )
    assert again.status_code == 409 and "No extension request" in again.json()["detail"]
    kinds = await notice_kinds(fast_api, "grid-1", case["id"], ["extension_decision"])
    assert kinds == ["extension_decision"]
    await act(fast_api, case["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})


async def test_an_extension_after_the_deadline_is_refused_with_the_reason(fast_api: Api) -> None:
    case = await file_case(fast_api)
    await act(
        fast_api, case["id"], "dispatch", Role.DISPATCHER, {"category": "city.street-vending"}
    )
    await act(fast_api, case["id"], "accept", "grid-1", {})
    await asyncio.sleep(3.2)  # the 3 s handle deadline passes
    response = await fast_api.http.post(
        f"/v1/grievances/{case['id']}/extend",
        json={"working_days": 2, "reason": "来不及了"},
        headers=fast_api.as_("grid-1"),
    )
    assert response.status_code == 409
    assert "before the deadline" in response.json()["detail"]
    await act(fast_api, case["id"], "withdraw", Role.HOTLINE, {"reason": "test done"})
