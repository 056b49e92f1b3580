"""SPEC §8's query, ``GrievanceUnit = 'comm-1' AND GrievanceStage = 'handle'``, on the dev server.

The dev server's visibility store is the one the Web UI and ``temporal workflow
list --query`` read. It is eventually consistent: each listing is polled until
it shows the expected cases or a deadline passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from grievance_flow import search_attributes
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    DispatchInput,
    SuperviseInput,
    WithdrawInput,
)
from tests.builders import DISPATCHER, HOTLINE, unit
from tests.workflows.harness import GRID, Handle, act, running_harness

COMMUNITY = "comm-1"
"""A tier-C unit of the bundled catalogue (the parent of grid-1)."""


async def dispatch_to_community(handle: Handle) -> None:
    command = DispatchInput(
        actor=DISPATCHER, category="city.street-vending", unit=COMMUNITY, tier="C"
    )
    await act(handle, Action.DISPATCH, command)


@dataclass
class Desk:
    """Four cases on the dev server, each in a different place."""

    client: Client
    handling: str
    """comm-1's case in handle (supervised)."""
    to_accept: str
    """comm-1's case not yet accepted."""
    elsewhere: str
    """grid-1's case in handle."""
    closed: str
    """comm-1's case, withdrawn."""

    def only_these(self, query: str) -> str:
        # The dev server is shared with other tests: look at this module's cases only.
        ids = ", ".join(f"'{case}'" for case in (self.handling, self.to_accept, self.elsewhere))
        return f"({query}) AND WorkflowId IN ({ids}, '{self.closed}')"


@pytest.fixture(scope="module")
async def desk(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Desk]:
    engine = make_engine(sqlite_url_for(tmp_path_factory.mktemp("search-attributes")))
    migrate(engine)
    async with running_harness(dev_env, load_domain(None), engine) as harness:
        handling = await harness.file()
        await dispatch_to_community(handling)
        await act(handling, Action.ACCEPT, AcceptInput(actor=unit(COMMUNITY)))
        await act(handling, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="督办"))
        to_accept = await harness.file()
        await dispatch_to_community(to_accept)
        elsewhere = await harness.file()
        await act(
            elsewhere,
            Action.DISPATCH,
            DispatchInput(actor=DISPATCHER, category="city.street-vending", unit=GRID, tier="D"),
        )
        await act(elsewhere, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
        closed = await harness.file()
        await dispatch_to_community(closed)
        await act(closed, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="市民撤回"))
        await closed.result()
        yield Desk(dev_env.client, handling.id, to_accept.id, elsewhere.id, closed.id)
        for case in (handling, to_accept, elsewhere):
            await act(case, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="测试结束"))
    engine.dispose()


async def listed(
    client: Client, query: str, expected: set[str], *, patience: float = 15.0
) -> set[str]:
    """The case ids ``query`` lists, once they are ``expected`` (or the last seen)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        found = {execution.id async for execution in client.list_workflows(query)}
        if found == expected or loop.time() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_a_units_cases_in_handle(desk: Desk) -> None:
    query = desk.only_these(f"GrievanceUnit = '{COMMUNITY}' AND GrievanceStage = 'handle'")
    assert await listed(desk.client, query, {desk.handling}) == {desk.handling}


async def test_the_role_queries_of_the_readme(desk: Desk) -> None:
    supervised = desk.only_these("GrievanceSupervised = true AND ExecutionStatus = 'Running'")
    assert await listed(desk.client, supervised, {desk.handling}) == {desk.handling}
    # Nothing here is overdue yet: a deadline days away, and the flag false.
    overdue = desk.only_these("GrievanceOverdue = true")
    assert await listed(desk.client, overdue, set(), patience=1.0) == set()
    due_later = desk.only_these("GrievanceDueAt > '2000-01-01T00:00:00Z'")
    open_cases = {desk.handling, desk.to_accept, desk.elsewhere}
    assert await listed(desk.client, due_later, open_cases) == open_cases


async def test_a_closed_case_keeps_its_unit_and_lists_without_a_deadline(desk: Desk) -> None:
    query = desk.only_these(f"GrievanceUnit = '{COMMUNITY}' AND GrievanceStage = 'closed'")
    assert await listed(desk.client, query, {desk.closed}) == {desk.closed}
    # Listing decodes every attribute: the unset deadline must not break it.
    [execution] = [run async for run in desk.client.list_workflows(query)]
    attributes = execution.typed_search_attributes
    assert attributes.get(search_attributes.DUE_AT) is None
    assert attributes.get(search_attributes.STAGE) == "closed"
