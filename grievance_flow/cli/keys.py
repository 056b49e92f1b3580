"""``grievance keys create``: print a new API key for a role (and unit)."""

from __future__ import annotations

import sys
from pathlib import Path

from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.runtime import load_domain, open_database
from grievance_flow.settings import Settings
from grievance_flow.store.keys import create_key
from grievance_flow.workflows.contracts import Role


def create_key_command(
    *, role: Role, unit: str | None, label: str, data_dir: Path | None, catalogue: Path | None
) -> int:
    """Create the key in the system's database (``DATABASE_URL`` or the data dir) and print it."""
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir
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
    engine = open_database(settings)
    try:
        print(create_key(engine, role=role, unit=unit, label=label))
    finally:
        engine.dispose()
    return 0
