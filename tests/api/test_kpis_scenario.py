"""Every KPI field, by hand-computed expectation, from cases driven through the API.

Nine cases go through every outcome on the real dev server, with clocks in
seconds so some stages are late on purpose, on SQLite and on PostgreSQL;
``GET /v1/kpis`` (each grouping), its CSV and the ranking are then checked
against figures worked out by hand below.

The catalogue: 占道经营 (``complaint``) must be signed for in 3 s and has 10
minutes to be handled; 消防安全隐患 (moved to ``help``) is the other way round.
An overdue stage escalates 8 s after its deadline: far enough that a late action
still finds its stage on a busy machine, soon enough for W to be escalated.

| case | grid | category | what happens |
|---|---|---|---|
| P | 1 | vending | accepted, completed on time, satisfied, resolved; U merged into it |
| Q | 1 | vending | returned by grid-1, sent to grid-2, signed for late, unresolvable, unreachable |
| R | 2 | fire | accepted on time, completed late, basically satisfied, explained |
| S | 1 | fire | on time, unsatisfied, reopened, completed again, satisfied, resolved |
| T | 1 | – | withdrawn before dispatch |
| U | 1 | – | merged into P |
| V | 1 | – | rejected |
| W | 1 | vending | never signed for: overdue, escalated to comm-1, then withdrawn |
| X | 2 | fire | dispatched, waiting to be signed for |
"""

from __future__ import annotations

import asyncio
import copy
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.testing import WorkflowEnvironment

from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data
from grievance_flow.deadlines.calendar import WorkingCalendar
from grievance_flow.reports.table import KPI_FIELDS, RANKING_FIELDS
from grievance_flow.runtime import Domain
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api, running_api
from tests.api.helpers import act, file_case

VENDING = "city.street-vending"
FIRE = "fire.hazard"
LATE = 3.6
"""Seconds to wait for a 3-second clock to have run out."""

ZERO = {name: 0 for name in KPI_FIELDS if name not in ("key", "name")} | {
    rate: None for rate in KPI_FIELDS if rate.endswith("_rate")
}


def repeating(value: float) -> Any:
    """A rate that is a repeating fraction, compared at the reported six decimals."""
    return round(value, 6)


def expected(key: str | None, name: str | None, **values: Any) -> dict[str, Any]:
    """A KPI item: every count 0 and every rate null unless given."""
    return {"key": key, "name": name, **ZERO, **values}


BY_UNIT = [
    # W, escalated to it (an escalation is not a dispatch), then withdrawn.
    expected("comm-1", "湖滨社区", cases=1, overdue=1, escalations=1),
    # Holds P and S; P, Q, S and W were dispatched to it and it returned Q.
    expected("grid-1", "湖滨一网格", cases=2, accepted=2, accepted_on_time=2, completed=2,
             completed_on_time=2, dispatched=4, returned=1, rechecked=2, reopened=1, reached=2,
             satisfied=2, closed=2, resolved=2,
             accepted_on_time_rate=1.0, completed_on_time_rate=1.0, return_rate=0.25,
             reopen_rate=0.5, satisfaction_rate=1.0, resolution_rate=1.0),
    # Holds Q, R and X.
    expected("grid-2", "湖滨二网格", cases=3, accepted=2, accepted_on_time=1, completed=2,
             completed_on_time=1, dispatched=3, returned=0, rechecked=2, reopened=0, reached=1,
             satisfied=1, closed=2, resolved=0, overdue=2,
             accepted_on_time_rate=0.5, completed_on_time_rate=0.5, return_rate=0.0,
             reopen_rate=0.0, satisfaction_rate=1.0, resolution_rate=0.0),
    # T, U and V: only V (rejected) counts as closed.
    expected(None, None, cases=3, closed=1, resolution_rate=0.0),
]  # fmt: skip

BY_CATEGORY = [
    expected(VENDING, "占道经营", cases=3, accepted=2, accepted_on_time=1, completed=2,
             completed_on_time=2, dispatched=3, returned=1, rechecked=2, reopened=0, reached=1,
             satisfied=1, closed=2, resolved=1, overdue=2, escalations=1,
             accepted_on_time_rate=0.5, completed_on_time_rate=1.0, return_rate=repeating(1 / 3),
             reopen_rate=0.0, satisfaction_rate=1.0, resolution_rate=0.5),
    expected(FIRE, "消防安全隐患", cases=3, accepted=2, accepted_on_time=2, completed=2,
             completed_on_time=1, dispatched=3, returned=0, rechecked=2, reopened=1, reached=2,
             satisfied=2, closed=2, resolved=1, overdue=1,
             accepted_on_time_rate=1.0, completed_on_time_rate=0.5, return_rate=0.0,
             reopen_rate=0.5, satisfaction_rate=1.0, resolution_rate=0.5),
    expected(None, None, cases=3, closed=1, resolution_rate=0.0),
]  # fmt: skip

BY_GRID = [
    expected("grid-1", "湖滨一网格", cases=7, accepted=3, accepted_on_time=2, completed=3,
             completed_on_time=3, dispatched=4, returned=1, rechecked=3, reopened=1, reached=2,
             satisfied=2, closed=4, resolved=2, overdue=2, escalations=1,
             accepted_on_time_rate=repeating(2 / 3), completed_on_time_rate=1.0,
             return_rate=0.25, reopen_rate=repeating(1 / 3), satisfaction_rate=1.0,
             resolution_rate=0.5),
    expected("grid-2", "湖滨二网格", cases=2, accepted=1, accepted_on_time=1, completed=1,
             completed_on_time=0, dispatched=2, returned=0, rechecked=1, reopened=0, reached=1,
             satisfied=1, closed=1, resolved=0, overdue=1,
             accepted_on_time_rate=1.0, completed_on_time_rate=0.0, return_rate=0.0,
             reopen_rate=0.0, satisfaction_rate=1.0, resolution_rate=0.0),
]  # fmt: skip

ALL_CASES = {
    "cases": 9, "accepted": 4, "accepted_on_time": 3, "completed": 4, "completed_on_time": 3,
    "dispatched": 6, "returned": 1, "rechecked": 4, "reopened": 1, "reached": 3, "satisfied": 3,
    "closed": 5, "resolved": 2, "overdue": 3, "escalations": 1,
}  # fmt: skip


def scenario_domain() -> Domain:
    """The default catalogue with the seconds clocks of the module docstring."""
    data, _ = read_catalogue_data(None)
    data = copy.deepcopy(data)
    data["sla_classes"]["complaint"] |= {"accept": {"seconds": 3}, "handle": {"minutes": 10}}
    data["sla_classes"]["help"] |= {"accept": {"minutes": 10}, "handle": {"seconds": 3}}
    for category in data["categories"]:
        if category["code"] == FIRE:
            category["sla"] = "help"
    data["policy"] |= {"escalate_after": {"seconds": 8}}
    catalogue = parse_catalogue(data, source="kpi-scenario")
    return Domain(catalogue=catalogue, calendar=WorkingCalendar(catalogue.calendar_overrides))


async def drive_scenario(api: Api) -> None:
    """File and drive the nine cases of the module docstring, concurrently."""

    async def dispatch(case_id: str, category: str, **extra: Any) -> dict[str, Any]:
        case = await act(api, case_id, "dispatch", Role.DISPATCHER, {"category": category, **extra})
        return case

    async def complete(case: dict[str, Any], result: str) -> None:
        await act(api, case["id"], "complete", case["unit"], {"result": result, "note": "已处理"})

    async def recheck(case_id: str, passed: bool, satisfaction: str) -> None:
        await act(
            api, case_id, "recheck", Role.VERIFIER,
            {"passed": passed, "satisfaction": satisfaction},
        )  # fmt: skip

    async def p() -> None:
        case = await dispatch((await file_case(api))["id"], VENDING)
        duplicate = await file_case(api)
        await act(api, duplicate["id"], "merge", Role.DISPATCHER, {"into": case["id"]})
        await act(api, case["id"], "accept", "grid-1", {})
        await complete(case, "resolved")
        await recheck(case["id"], True, "satisfied")

    async def q() -> None:
        case = await dispatch((await file_case(api))["id"], VENDING)
        await act(api, case["id"], "return", "grid-1", {"reason": "不属本网格"})
        case = await dispatch(case["id"], VENDING, unit="grid-2")
        await asyncio.sleep(LATE)
        await act(api, case["id"], "accept", "grid-2", {})
        await complete(case, "unresolvable")
        await recheck(case["id"], True, "unreachable")

    async def r() -> None:
        case = await dispatch((await file_case(api, grid="grid-2"))["id"], FIRE)
        await act(api, case["id"], "accept", "grid-2", {})
        await asyncio.sleep(LATE)
        await complete(case, "explained")
        await recheck(case["id"], True, "basically_satisfied")

    async def s() -> None:
        case = await dispatch((await file_case(api))["id"], FIRE)
        await act(api, case["id"], "accept", "grid-1", {})
        await complete(case, "resolved")
        await recheck(case["id"], False, "unsatisfied")
        await complete(case, "resolved")
        await recheck(case["id"], True, "satisfied")

    async def t() -> None:
        case = await file_case(api)
        await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "已自行解决"})

    async def v() -> None:
        case = await file_case(api)
        await act(api, case["id"], "reject", Role.DISPATCHER, {"reason": "不属受理范围"})

    async def w() -> None:
        case = await dispatch((await file_case(api))["id"], VENDING)
        for _ in range(600):  # overdue after 3 s, escalated 8 s later
            seen = await api.http.get(
                f"/v1/grievances/{case['id']}", headers=api.as_(Role.DISPATCHER)
            )
            if seen.json()["escalations"] == 1:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("W was never escalated")
        await act(api, case["id"], "withdraw", Role.HOTLINE, {"reason": "已自行解决"})

    async def x() -> None:
        await dispatch((await file_case(api, grid="grid-2"))["id"], FIRE)

    await asyncio.gather(p(), q(), r(), s(), t(), v(), w(), x())


async def kpis(api: Api, who: Role | str = Role.DISPATCHER, **params: Any) -> Any:
    response = await api.http.get("/v1/kpis", params=params, headers=api.as_(who))
    assert response.status_code == 200, response.text
    return response.json()


async def settled(read: Callable[[], Awaitable[Any]], want: Any) -> Any:
    """``read()`` once the read model has caught up with the last actions (or as it is)."""
    got = await read()
    for _ in range(100):
        if got == want:
            break
        await asyncio.sleep(0.05)
        got = await read()
    return got


async def test_every_kpi_field_per_group_on_both_databases(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str
) -> None:
    async with running_api(dev_env, tmp_path, scenario_domain(), database_url=database_url) as api:
        await drive_scenario(api)

        async def items(group_by: str) -> Any:
            return (await kpis(api, group_by=group_by))["items"]

        assert await settled(lambda: items("unit"), BY_UNIT) == BY_UNIT
        assert await items("category") == BY_CATEGORY
        assert await items("grid") == BY_GRID

        # Filed today (Beijing); yesterday and tomorrow are listed, empty.
        today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
        days = await kpis(
            api,
            group_by="day",
            **{"from": (today - timedelta(days=1)).isoformat()},
            to=(today + timedelta(days=2)).isoformat(),
        )
        assert [row["key"] for row in days["items"]] == [
            (today + timedelta(days=n)).isoformat() for n in (-1, 0, 1)
        ]
        totals = {name: sum(row[name] for row in days["items"]) for name in ALL_CASES}
        assert totals == ALL_CASES
        assert days["range"]["from"] == f"{(today - timedelta(days=1)).isoformat()}T00:00:00+08:00"

        # A unit sees its own row only, whatever it asks to group by.
        assert (await kpis(api, "grid-2"))["items"] == [BY_UNIT[2]]

        csv_response = await api.http.get(
            "/v1/kpis",
            params={"group_by": "unit"},
            headers={**api.as_(Role.AUDITOR), "Accept": "text/csv"},
        )
        assert csv_response.status_code == 200
        assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(csv_response.text)))
        assert tuple(rows[0]) == KPI_FIELDS
        assert [dict(zip(KPI_FIELDS, row, strict=True)) for row in rows[1:]] == [
            {name: _cell(item[name]) for name in KPI_FIELDS} for item in BY_UNIT
        ]

        ranking = await api.http.get("/v1/kpis/ranking", headers=api.as_(Role.DISPATCHER))
        assert ranking.status_code == 200, ranking.text
        body = ranking.json()
        assert body["weights"] == {"response": 30, "resolution": 35, "satisfaction": 35}
        placed = [
            (item["rank"], item["unit"], item["score"], item["below_line"])
            for item in body["items"]
        ]
        # grid-2: (30 × 0.5 + 35 × 0.0 + 35 × 1.0) / 100; comm-1 has no rate at all.
        assert placed == [(1, "grid-1", 100.0, False), (2, "grid-2", 50.0, True),
                          (None, "comm-1", None, False)]  # fmt: skip
        assert list(body["items"][0]) == list(RANKING_FIELDS)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)
