"""``grievance keys create``: print a new key, stored (hashed) where the system looks (SPEC §5)."""

from __future__ import annotations

from pathlib import Path

from grievance_flow.store.engine import make_engine, sqlite_url_for
from grievance_flow.store.keys import resolve_key
from grievance_flow.workflows.contracts import Actor, Role
from tests.cli.conftest import Command, Processes, printed_key


def refused(command: Command, *mentions: str) -> None:
    """``keys create`` refused with usage status 2, printed no key, and said why."""
    assert command.returncode == 2, command.describe()
    assert command.stdout() == "", command.describe()
    for text in mentions:
        assert text in command.stderr(), command.describe()


async def test_keys_create(processes: Processes, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    where = ("--data-dir", str(data_dir))

    dispatcher = printed_key(await processes.run("keys", "create", "--role", "dispatcher", *where))
    grid = printed_key(
        await processes.run("keys", "create", "--role", "unit", "--unit", "grid-1", *where)
    )
    assert dispatcher != grid

    refused(await processes.run("keys", "create", "--role", "unit", *where), "--unit")
    refused(
        await processes.run("keys", "create", "--role", "unit", "--unit", "nowhere", *where),
        "nowhere",
    )
    refused(
        await processes.run("keys", "create", "--role", "hotline", "--unit", "grid-1", *where),
        "--unit",
    )

    engine = make_engine(sqlite_url_for(data_dir))
    try:
        assert resolve_key(engine, dispatcher) == Actor(Role.DISPATCHER)
        assert resolve_key(engine, grid) == Actor(Role.UNIT, "grid-1")
        assert resolve_key(engine, "gf_never-issued") is None
    finally:
        engine.dispose()
