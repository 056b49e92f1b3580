"""``DIR/dev-keys.json``: one key per role and per unit for the embedded system.

The file is written once; later ``up`` runs re-register the same keys (and add
keys for units new to the catalogue), so scripts keep working across restarts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from grievance_flow.catalogue.model import Catalogue
from grievance_flow.store.keys import generate_key, register_key
from grievance_flow.workflows.contracts import Role

DEV_KEYS_FILE = "dev-keys.json"
PLAIN_ROLES = (Role.HOTLINE, Role.DISPATCHER, Role.VERIFIER, Role.AUDITOR, Role.ADMIN)


def ensure_dev_keys(data_dir: Path, engine: Engine, catalogue: Catalogue) -> Path:
    """Create or refresh ``dev-keys.json`` and make sure every key in it is registered."""
    path = data_dir / DEV_KEYS_FILE
    keys: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    units: dict[str, str] = keys.setdefault("units", {})
    for role in PLAIN_ROLES:
        keys.setdefault(role.value, generate_key())
        register_key(engine, keys[role.value], role=role, unit=None, label=f"dev {role.value}")
    for unit_id in catalogue.units:
        units.setdefault(unit_id, generate_key())
        register_key(engine, units[unit_id], role=Role.UNIT, unit=unit_id, label=f"dev {unit_id}")
    ordered = {role.value: keys[role.value] for role in PLAIN_ROLES} | {"units": units}
    # The file holds live credentials: readable by its owner only.
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n", "utf-8")
    os.chmod(temporary, 0o600)
    temporary.replace(path)
    return path
