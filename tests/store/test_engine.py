"""Engines and migrations, on both databases."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool
from sqlmodel import SQLModel

from grievance_flow.store import models  # noqa: F401  (registers the tables)
from grievance_flow.store.engine import (
    CONNECT_TIMEOUT,
    MAX_OVERFLOW,
    POOL_SIZE,
    make_engine,
    migrate,
    normalize_url,
    sqlite_url_for,
)
from grievance_flow.store.keys import create_key, key_id_for, resolve_key
from grievance_flow.worker import ACTIVITY_THREADS
from grievance_flow.workflows.contracts import Actor, Role

TABLES = {
    "action_requests",
    "alembic_version",
    "api_keys",
    "cases",
    "events",
    "notices",
    "webhook_deliveries",
    "webhook_subscriptions",
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/gf", "postgresql+psycopg://u:p@db:5432/gf"),
        ("postgresql://u:p@db/gf", "postgresql+psycopg://u:p@db/gf"),
        ("postgresql+psycopg://u@db/gf", "postgresql+psycopg://u@db/gf"),
        ("sqlite:////srv/data/readmodel.db", "sqlite:////srv/data/readmodel.db"),
    ],
)
def test_postgres_urls_use_psycopg(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_sqlite_url_points_into_the_data_dir(tmp_path: Path) -> None:
    assert sqlite_url_for(tmp_path) == f"sqlite:///{tmp_path.resolve()}/readmodel.db"


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        make_engine("mysql://root@localhost/gf")


def test_sqlite_connections_are_configured_for_concurrent_use(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url_for(tmp_path))
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000}


def test_in_memory_sqlite_is_one_database_for_all_threads() -> None:
    engine = make_engine("sqlite://")
    migrate(engine)
    key = create_key(engine, role=Role.AUDITOR, unit=None)
    seen: list[Actor | None] = []
    thread = threading.Thread(target=lambda: seen.append(resolve_key(engine, key)))
    thread.start()
    thread.join()
    engine.dispose()
    assert seen == [Actor(role=Role.AUDITOR, key_id=key_id_for(key))]


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _versions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def test_migrating_again_changes_nothing(database_url: str) -> None:
    migrate(database_url)  # by URL, as the CLI does
    engine = make_engine(database_url)
    try:
        key = create_key(engine, role=Role.HOTLINE, unit=None)
        migrate(engine)  # by engine, as the API lifespan does
        migrate(engine)
        assert _tables(engine) == TABLES
        assert _versions(engine) == ["0010"]
        assert resolve_key(engine, key) == Actor(role=Role.HOTLINE, key_id=key_id_for(key))
    finally:
        engine.dispose()


def test_threads_of_one_process_can_all_migrate(database_url: str) -> None:
    # Under `grievance up` the API and the worker share a process.
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            migrate(database_url)
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_at_head(database_url)


_MIGRATE_AT = """
import sys, time
from grievance_flow.store.engine import migrate
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
migrate(sys.argv[1])
"""


def test_processes_starting_together_can_all_migrate(database_url: str) -> None:
    # `grievance api` and `grievance worker` both migrate when they start.
    start_at = time.time() + 3  # after every child has imported, so they collide
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_AT, database_url, str(start_at)],
            cwd=Path(__file__).resolve().parents[2],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    failures = [err for child in children if (err := child.communicate(timeout=120)[1])]
    assert failures == []
    assert [child.returncode for child in children] == [0, 0, 0, 0]
    _assert_at_head(database_url)


def _assert_at_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert _versions(engine) == ["0010"]
        assert _tables(engine) == TABLES
    finally:
        engine.dispose()


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_a_postgres_pool_fits_the_worker_threads_and_the_api() -> None:
    # No connection is opened: the pool is configured when the engine is made.
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    try:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() == POOL_SIZE == ACTIVITY_THREADS
        # Overflow covers the API's asyncio.to_thread pool at its largest.
        assert pool._max_overflow == MAX_OVERFLOW >= 32
    finally:
        engine.dispose()


def test_a_postgres_host_that_never_answers_is_given_up_on() -> None:
    # A socket that accepts but never says a word: the libpq default would wait
    # for ever (the kernel completes the handshake), holding an activity thread.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    engine = make_engine(f"postgresql://nobody@127.0.0.1:{port}/none")
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            with engine.connect():
                pass
        except Exception as exc:
            outcome.append(exc)

    attempt = threading.Thread(target=connect, daemon=True)
    try:
        attempt.start()
        attempt.join(CONNECT_TIMEOUT * 6)
        assert not attempt.is_alive(), "the connection attempt never gave up"
        (failure,) = outcome
        assert isinstance(failure, OperationalError)
        assert "timeout" in str(failure).lower()
    finally:
        engine.dispose()
        silent.close()


def test_a_fresh_sqlite_file_locked_by_a_writer_is_waited_for(tmp_path: Path) -> None:
    # Seen as a flaky "database is locked" when four processes migrated a new
    # read model at once: switching a rollback-journal file to WAL while another
    # connection holds its write lock fails at once, busy timeout or not.
    path = tmp_path / "readmodel.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE held (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO held VALUES (1)")
    release = threading.Timer(0.5, lambda: writer.execute("COMMIT"))
    engine = make_engine(f"sqlite:///{path}")
    try:
        release.start()
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
    finally:
        release.join()
        engine.dispose()
        writer.close()
