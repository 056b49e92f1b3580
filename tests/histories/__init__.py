"""Recorded workflow histories (test data) and how to load them.

Each ``<name>.json`` is one path through the lifecycle, recorded by
``python -m tests.histories.record`` with the workflow code of its day. They are
never re-recorded to make a failing replay pass (see README.md here).
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory

HISTORIES_DIR = Path(__file__).resolve().parent


def recorded_histories() -> list[Path]:
    """The recorded history files, by name."""
    return sorted(HISTORIES_DIR.glob("*.json"))


def load_history(path: Path) -> WorkflowHistory:
    """A recorded history, under the case id it was recorded with (``grievance-REC-<name>``)."""
    return WorkflowHistory.from_json(f"grievance-REC-{path.stem}", path.read_text(encoding="utf-8"))
