"""``grievance keys create | list | revoke``: API keys and who holds them (SPEC §7)."""

from __future__ import annotations

import getpass
import os
import socket
import sys
from pathlib import Path

from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.runtime import load_domain, open_database
from grievance_flow.settings import Settings, settings_for
from grievance_flow.store.keys import create_key, key_id_for, list_keys, revoke_key
from grievance_flow.workflows.contracts import Role


def create_key_command(
    *, role: Role, unit: str | None, label: str, data_dir: Path | None, catalogue: Path | None
) -> int:
    """Create the key in the system's database (``DATABASE_URL`` or the data dir) and print it."""
    settings = settings_for(data_dir)
    if role is Role.UNIT:
        if not unit:
            print("error: --unit is required for --role unit", file=sys.stderr)
            return 2
        try:
            domain = load_domain(catalogue or settings.catalogue)
        except CatalogueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if unit not in domain.catalogue.units:
            print(f"error: unit '{unit}' is not in the catalogue", file=sys.stderr)
            return 2
    elif unit:
        print(f"error: --unit is only for --role unit, not {role.value}", file=sys.stderr)
        return 2
    if not label.strip():
        print("error: --holder must name who the key is for", file=sys.stderr)
        return 2
    engine = open_database(settings)
    try:
        key = create_key(engine, role=role, unit=unit, label=label)
        print(key)  # stdout: the key alone, for scripts
        print(f"key id {key_id_for(key)}, held by {label}", file=sys.stderr)
    finally:
        engine.dispose()
    return 0


def default_holder() -> str:
    """The holder of a key created without ``--holder``: who issued it, ``user@host``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def _settings(data_dir: Path | None) -> Settings:
    settings = settings_for(data_dir)
    return settings


def list_keys_command(*, data_dir: Path | None) -> int:
    """Print every key, one per line: id, role, unit, holder, created, state."""
    engine = open_database(settings_for(data_dir))
    try:
        keys = list_keys(engine)
    finally:
        engine.dispose()
    for key in keys:
        state = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
        print(
            f"{key.key_id}  {key.role:<10}  {key.unit or '-':<10}  {key.label or '-'}  "
            f"created {key.created_at.isoformat()}  {state}"
        )
    return 0


def revoke_command(*, key_id: str, data_dir: Path | None) -> int:
    """Revoke a key by its id: every API refuses it from its next request on."""
    engine = open_database(settings_for(data_dir))
    try:
        revoked = revoke_key(engine, key_id)
    finally:
        engine.dispose()
    if revoked is None:
        print(f"error: no key with id '{key_id}' (see 'grievance keys list')", file=sys.stderr)
        return 1
    assert revoked.revoked_at is not None
    print(f"{key_id} ({revoked.label or 'no holder'}) revoked at {revoked.revoked_at.isoformat()}")
    return 0
