"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL tests get a database of their own, created from the server's
``postgres`` maintenance database and dropped afterwards, so parallel and
earlier runs never see each other's rows. The server comes from
``DATABASE_TEST_URL`` (default: local trust auth).

When the server is unreachable the tests skip, except under ``CI=true``, where
they fail: CI must never pass by silently not testing PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Literal, NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from grievance_flow.store.engine import normalize_url, sqlite_url_for

DatabaseKind = Literal["sqlite", "postgres"]

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
TEST_DATABASE_PREFIX = "gf_test_"


class DatabaseUnavailableError(RuntimeError):
    """The test database server cannot be reached or used."""


def in_ci() -> bool:
    """Return True when running in CI (``CI=true``, as GitHub Actions and most CIs set)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def postgres_server_url() -> str:
    """Return the PostgreSQL URL tests use, from ``DATABASE_TEST_URL`` or the default."""
    return os.environ.get("DATABASE_TEST_URL") or DEFAULT_POSTGRES_URL


def make_test_database_url(
    kind: DatabaseKind, *, tmp_dir: Path | None = None
) -> tuple[str, Callable[[], None]]:
    """Create an empty database of ``kind`` and return its URL and a cleanup function.

    Call the cleanup once every engine on the URL is disposed (it drops the
    PostgreSQL database, forcibly if a connection was leaked).

    Args:
        kind: ``"sqlite"`` for a file in ``tmp_dir`` (or a new temp directory),
            ``"postgres"`` for a new database on :func:`postgres_server_url`.
        tmp_dir: Where the SQLite file goes; the caller owns and removes it.

    Raises:
        DatabaseUnavailableError: PostgreSQL cannot be reached or refuses CREATE DATABASE.
    """
    if kind == "sqlite":
        return _sqlite_database(tmp_dir)
    return _postgres_database(postgres_server_url())


def skip_or_fail_unavailable(error: DatabaseUnavailableError) -> NoReturn:
    """Skip the test for an unreachable database, or fail it under CI."""
    message = f"PostgreSQL unavailable at {_safe(postgres_server_url())}: {error}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: PostgreSQL tests must run, not skip)")
    pytest.skip(message)


def _sqlite_database(tmp_dir: Path | None) -> tuple[str, Callable[[], None]]:
    if tmp_dir is not None:
        return sqlite_url_for(tmp_dir), lambda: None
    made = Path(tempfile.mkdtemp(prefix=TEST_DATABASE_PREFIX))
    return sqlite_url_for(made), lambda: shutil.rmtree(made, ignore_errors=True)


def _postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    server = make_url(normalize_url(server_url))
    # pid in the name, so a database left by a killed run can be traced to it.
    name = f"{TEST_DATABASE_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as err:
        admin.dispose()
        raise DatabaseUnavailableError(str(err.orig or err).strip()) from err
    except sa.exc.ProgrammingError as err:
        admin.dispose()
        raise DatabaseUnavailableError(f"cannot create a test database: {err.orig}") from err

    def drop() -> None:
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()

    url = server.set(database=name).render_as_string(hide_password=False)
    return url, drop


def _admin_engine(server: URL) -> sa.Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction, hence AUTOCOMMIT;
    # NullPool so no idle connection to the maintenance db outlives the test.
    return sa.create_engine(
        server.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
