"""Database engines for the read model, and its schema migrations.

The engine is synchronous: the API runs store calls in its thread pool and the
projection activity is a sync activity on the worker's thread pool executor.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic script directory, found next to this file so a non-editable install works."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another (API, worker, CLI) to release the lock."""

# Any bigint works as long as every migrator uses the same one; spelling it
# from bytes makes it recognisable in pg_locks.
_PG_MIGRATION_LOCK = int.from_bytes(b"gf-migr", "big")

# Alembic's `context` and `op` are module-level proxies to the running
# migration, so two migrations in one process (API and worker threads under
# `grievance up`) must not overlap even before the database lock is taken.
_IN_PROCESS_LOCK = threading.Lock()

# PostgreSQL pool sizing. A process opens at most one connection per thread that
# touches the database, so the pool only has to be large enough that no such
# thread ever waits on it (a waiting projection is a stalled case; after
# pool_timeout, 30 s, an error):
# - the worker's activities (projection, notices, classification) run on its
#   ACTIVITY_THREADS = 16 threads (grievance_flow/worker.py): the steady pool;
# - the API calls the store through asyncio.to_thread, whose default executor
#   has min(32, cpus + 4) threads: at most 32 overflow connections, opened on
#   demand and closed again once the burst is over.
# So `grievance up` (both in one process) needs up to 48, `grievance worker` 16,
# `grievance api` at most 32; size PostgreSQL's max_connections (default 100)
# for the processes you run. tests/store/test_engine.py keeps these in step.
CONNECT_TIMEOUT = 5
"""Seconds a PostgreSQL connection attempt may take (unless the URL sets ``connect_timeout``)."""

POOL_SIZE = 16
"""Connections kept open: one per worker activity thread (``worker.ACTIVITY_THREADS``)."""

MAX_OVERFLOW = 32
"""Extra connections for bursts: the API's thread pool (``min(32, cpus + 4)`` threads)."""

_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}


def normalize_url(url: str) -> str:
    """Return ``url`` with PostgreSQL URLs pointed at the psycopg 3 driver.

    ``postgres://`` (Heroku-style) and bare ``postgresql://`` would otherwise
    select psycopg2, which is not a dependency. Other URLs pass unchanged.
    """
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_SCHEMES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def sqlite_url_for(data_dir: Path) -> str:
    """Return the URL of the embedded read model, ``DATA_DIR/readmodel.db``.

    The directory must exist before the engine first connects.
    """
    return f"sqlite:///{(data_dir / 'readmodel.db').resolve()}"


def make_engine(url: str) -> Engine:
    """Create a thread-safe engine for a SQLite or PostgreSQL URL.

    SQLite gets WAL (readers never block the projection writer), a busy timeout
    (the API, the worker and the CLI may write at once), foreign keys (off by
    default in SQLite) and ``check_same_thread=False`` (the pool hands
    connections to worker threads).

    That makes one SQLite file safe for several processes too (``grievance up
    --workers N``: the API and N worker processes): WAL's locks are shared
    through the ``-shm`` file, so each process sees the others' commits, and a
    writer waits up to :data:`SQLITE_BUSY_TIMEOUT_MS` for another's transaction
    rather than failing. The wait applies because every read-model write
    transaction starts with its write (an upgrade from a read snapshot that
    another process made stale would fail at once instead), and migrations
    take ``BEGIN IMMEDIATE``. It holds on one machine's local disk only; across
    machines use PostgreSQL. An in-memory SQLite database is shared by
    all threads through one connection, or each would see its own empty one.

    Args:
        url: A SQLAlchemy URL; ``postgres://`` and ``postgresql://`` are accepted.

    Raises:
        ValueError: The URL names a database other than SQLite or PostgreSQL.
    """
    parsed = make_url(normalize_url(url))
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        # pre_ping: a managed PostgreSQL restarts or fails over; a stale pooled
        # connection should be replaced, not surface as a 500 or an activity retry.
        # connect_timeout: a database host that stops answering (rather than
        # refusing) would otherwise hold an activity thread for the driver's
        # default (psycopg: 130 s), and 16 such threads stall every deadline and
        # projection; a local activity's attempt is 6 s. A URL's own value wins.
        connect_args = (
            {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
        )
        return sa.create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            connect_args=connect_args,
        )
    if backend != "sqlite":
        raise ValueError(f"unsupported database {backend!r}: use sqlite:// or postgresql://")

    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if parsed.database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool
    engine = sa.create_engine(parsed, **options)
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL itself needs the lock another
        # process may hold while it migrates.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
        # With WAL, NORMAL loses at most the last commits on power loss, never
        # integrity; the read model is rebuildable from Temporal anyway.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, waiting up to the busy timeout for the lock it needs.

    SQLite answers "database is locked" at once, without its busy handler, when
    another connection holds a write lock on a file still in rollback-journal
    mode (a fresh read model that several processes open and migrate at once).
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def alembic_config() -> Config:
    """Return an Alembic config for the bundled migrations (no alembic.ini needed).

    Developers can pass it to ``alembic.command.revision`` to write a new
    migration; set ``sqlalchemy.url`` on it first for commands that connect.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def migrate(url_or_engine: str | Engine) -> None:
    """Bring the schema to the newest revision (Alembic ``upgrade head``).

    Safe to repeat (a schema at head is left alone) and to run from several
    processes at once (``grievance api`` and ``grievance worker`` both migrate
    on start, and may share a process): the whole upgrade runs in one
    transaction behind a database lock (and a thread lock), so a second
    migrator waits and then finds nothing to do.

    Args:
        url_or_engine: A database URL, or an engine from :func:`make_engine`.
    """
    owned = isinstance(url_or_engine, str)
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with _IN_PROCESS_LOCK, engine.connect() as connection:
            _lock_schema(connection)
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    finally:
        if owned:
            engine.dispose()


def _lock_schema(connection: Connection) -> None:
    """Serialise migrators; the lock is released when the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
        )
    elif connection.dialect.name == "sqlite":
        # pysqlite would otherwise run the DDL outside any transaction, so two
        # migrators could both see "no tables" and both create them. BEGIN
        # IMMEDIATE takes the write lock now (waiting up to busy_timeout) and
        # makes the DDL and the alembic_version row commit together.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
