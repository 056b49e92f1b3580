"""The command line and SPEC §8's search attributes.

``grievance up``'s dev server registers them (on a fresh data dir and again on
one it has used before), and ``audit replay --query`` passes a query on them
through to Temporal's visibility.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from grievance_flow import search_attributes
from grievance_flow.cli.devserver import DevServer
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.workflows.contracts import AcceptInput, Action, WithdrawInput
from tests.audit.conftest import grievance, point_at
from tests.builders import HOTLINE, unit
from tests.cli.conftest import free_temporal_port
from tests.workflows.harness import GRID, act, dispatch_to, running_harness


async def registered(server: DevServer) -> dict[str, int]:
    """The custom search attributes the running server knows, by name."""
    client = await server.connect()
    answer = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    return dict(answer.custom_attributes)


async def test_ups_dev_server_registers_them_on_a_new_and_a_used_data_dir(
    tmp_path: Path,
) -> None:
    expected = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in search_attributes.ALL
    }
    port = free_temporal_port()
    # One server object, as `up` restarts its dev server: it holds the data dir's lock.
    server = DevServer(tmp_path, port=port, ui_port=port + 1000)
    for _ in range(2):  # the second start finds temporal.db with them already in it
        server.start()
        try:
            found = await registered(server)
        finally:
            await asyncio.to_thread(server.stop)
        assert {name: found.get(name) for name in expected} == expected


async def test_audit_replay_query_selects_cases_by_search_attribute(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url_for(tmp_path))
    migrate(engine)
    async with running_harness(dev_env, load_domain(None), engine) as harness:
        handling = await harness.file()
        await dispatch_to(handling, GRID)
        await act(handling, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
        waiting = await harness.file()
        await dispatch_to(waiting, GRID)
        query = (
            f"GrievanceUnit = '{GRID}' AND GrievanceStage = 'handle'"
            f" AND WorkflowId IN ('{handling.id}', '{waiting.id}')"
        )
        # Visibility is eventually consistent: wait until it lists the case.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15.0
        while loop.time() < deadline:
            if [run async for run in dev_env.client.list_workflows(query)]:
                break
            await asyncio.sleep(0.2)

        system = tmp_path / "system"
        point_at(dev_env, system)
        run = await grievance("audit", "replay", "--query", query, "--data-dir", str(system))

        for case in (handling, waiting):
            await act(case, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="测试结束"))
    engine.dispose()
    assert run.code == 0, run.describe()
    assert len(run.lines) == 1, run.describe()
    assert run.lines[0].startswith(f"OK   temporal:{handling.id}@"), run.describe()
