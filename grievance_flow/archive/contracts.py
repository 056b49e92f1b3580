"""Inputs and results of the archive workflow and its activity."""

from __future__ import annotations

from dataclasses import dataclass

ARCHIVE_WORKFLOW = "ArchiveWorkflow"
ARCHIVE_ACTIVITY = "archive_closed_cases"
SCHEDULE_ID = "grievance-archive"


@dataclass
class ArchiveRequest:
    """Which closed cases to archive: GrievanceWorkflows of ``task_queue``."""

    task_queue: str


@dataclass
class ArchiveResult:
    """What a run did."""

    archived: int = 0
    """Bundles written."""
    already: int = 0
    """Closed cases found already archived (a rerun, or an overlap with the last run)."""
    until: str | None = None
    """The watermark written: every case closed before it is archived."""
