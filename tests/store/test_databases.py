"""The test-database helper: PostgreSQL tests skip locally but never in CI."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from grievance_flow.store.engine import normalize_url
from tests.databases import (
    DatabaseUnavailableError,
    make_test_database_url,
    postgres_server_url,
    skip_or_fail_unavailable,
)

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"


def test_unreachable_postgres_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_TEST_URL", UNREACHABLE)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(DatabaseUnavailableError) as error:
        make_test_database_url("postgres")
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail_unavailable(error.value)


def test_unreachable_postgres_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_TEST_URL", UNREACHABLE)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(DatabaseUnavailableError) as error:
        make_test_database_url("postgres")
    with pytest.raises(pytest.fail.Exception, match="must run, not skip"):
        skip_or_fail_unavailable(error.value)


def _database_exists(name: str) -> bool:
    server = make_url(normalize_url(postgres_server_url())).set(database="postgres")
    engine = sa.create_engine(server, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
    finally:
        engine.dispose()
    return found is not None


@pytest.mark.postgres
def test_each_postgres_test_gets_its_own_database_dropped_after() -> None:
    try:
        first, drop_first = make_test_database_url("postgres")
        second, drop_second = make_test_database_url("postgres")
    except DatabaseUnavailableError as err:
        skip_or_fail_unavailable(err)
    names = [make_url(url).database or "" for url in (first, second)]
    assert names[0] != names[1]
    assert all(_database_exists(name) for name in names)

    # A leaked connection must not stop the drop.
    leaked = sa.create_engine(first, poolclass=NullPool).connect()
    drop_first()
    drop_second()
    leaked.invalidate()
    assert not any(_database_exists(name) for name in names)
