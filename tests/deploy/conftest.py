"""The deployment files at the repository root, read as a Docker host would read them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from grievance_flow.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: docker-compose.yml, Dockerfile and worker.py live here."""

_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def with_defaults(value: str) -> str:
    """``value`` with every ``${NAME:-default}`` replaced by its default, as compose does unset."""
    return _DEFAULTED.sub(lambda match: match.group(2), value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping (compose allows a mapping or ``K=V`` items)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {str(name): with_defaults(str(value)) for name, value in raw.items()}


def settings_variables() -> set[str]:
    """Every environment variable :class:`Settings` reads, from its fields' aliases."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
    return names


def settings_from(env: dict[str, str]) -> Settings:
    """The :class:`Settings` a process with exactly ``env`` would build (this shell's ignored)."""
    return Settings.model_validate(env)


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml, parsed (YAML anchors and ``<<`` merges resolved)."""
    parsed: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return parsed


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The compose file's services by name."""
    found: dict[str, dict[str, Any]] = compose["services"]
    return found
