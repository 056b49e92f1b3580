"""Database fixtures: every test that asks for ``engine`` runs on SQLite and PostgreSQL.

Written to move unchanged into ``tests/conftest.py`` once the API tests need them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from grievance_flow.store.engine import make_engine, migrate
from tests.databases import (
    DatabaseUnavailableError,
    make_test_database_url,
    skip_or_fail_unavailable,
)


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
