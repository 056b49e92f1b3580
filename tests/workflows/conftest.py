"""Workflow-test fixtures shared by the SLA and collaboration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from tests.workflows.harness import Harness, running_harness, seconds_domain


@pytest.fixture
async def seconds_harness(
    time_skipping_env: WorkflowEnvironment, sqlite_engine: Engine
) -> AsyncIterator[Harness]:
    """A worker on the bundled catalogue with every SLA class in seconds."""
    async with running_harness(time_skipping_env, seconds_domain(), sqlite_engine) as harness:
        yield harness
