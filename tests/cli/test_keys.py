"""``grievance keys create``: print a new key, stored (hashed) where the system looks (SPEC §5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grievance_flow.store.engine import make_engine, sqlite_url_for
from grievance_flow.store.keys import key_id_for, resolve_key
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
        await processes.run(
            "keys",
            "create",
            "--role",
            "unit",
            "--unit",
            "grid-1",
            "--holder",
            "湖滨一网格 李四",
            *where,
        )
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
        seen = resolve_key(engine, dispatcher)
        assert seen is not None and (seen.role, seen.key_id) == (
            Role.DISPATCHER,
            key_id_for(dispatcher),
        )
        assert seen.holder and "@" in seen.holder  # no --holder: the login that issued it
        held = resolve_key(engine, grid)
        assert held == Actor(Role.UNIT, "grid-1", holder="湖滨一网格 李四", key_id=key_id_for(grid))
        assert resolve_key(engine, "gf_never-issued") is None
    finally:
        engine.dispose()


def test_keys_list_and_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from grievance_flow.cli.main import main

    where = ["--data-dir", str(tmp_path)]
    assert main(["keys", "create", "--role", "auditor", "--holder", "纪检 王五", *where]) == 0
    key = capsys.readouterr().out.strip()
    assert main(["keys", "list", *where]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{key_id_for(key)}  auditor") and "纪检 王五" in line
    assert line.endswith("active") and key not in line
    assert main(["keys", "revoke", key_id_for(key), *where]) == 0
    assert "revoked" in capsys.readouterr().out
    engine = make_engine(sqlite_url_for(tmp_path))
    try:
        assert resolve_key(engine, key) is None
    finally:
        engine.dispose()
    assert main(["keys", "list", *where]) == 0
    assert "revoked 20" in capsys.readouterr().out
    assert main(["keys", "revoke", "k_nosuchkey", *where]) == 1
    assert "no key with id 'k_nosuchkey'" in capsys.readouterr().err
