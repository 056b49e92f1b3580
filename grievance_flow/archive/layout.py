"""Where a case's bundle lives in the archive: by the month it closed, then its id."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ARCHIVE_FOLDER = "archive"
"""The archive's folder in the data dir when ``GRIEVANCE_ARCHIVE_DIR`` is unset."""

WATERMARK_FILE = ".archived-until"
"""The close time up to which every case is archived (not a ``*.json``: verify skips it)."""


def bundle_path(root: Path, case_id: str, closed_at: datetime, tz: ZoneInfo) -> Path:
    """``root/YYYY-MM/<case id>.json``."""
    return root / closed_at.astimezone(tz).strftime("%Y-%m") / f"{case_id}.json"


def read_watermark(root: Path) -> datetime | None:
    """The last run's watermark, or None before the first run."""
    try:
        return datetime.fromisoformat((root / WATERMARK_FILE).read_text("utf-8").strip())
    except (OSError, ValueError):
        return None


def write_watermark(root: Path, until: datetime) -> None:
    """Record that every case closed before ``until`` is archived (atomically)."""
    temporary = root / f"{WATERMARK_FILE}.tmp"
    temporary.write_text(until.isoformat() + "\n", "utf-8")
    temporary.replace(root / WATERMARK_FILE)


def write_bundle(path: Path, text: str) -> bool:
    """Write a bundle unless the case is archived already; True if it was written.

    Never overwritten: the first bundle of a case is its evidence, and a rerun
    (or two runs at once) must not replace it.
    """
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(text, "utf-8")
    try:
        # link() fails if the name exists: of two runs racing, one bundle wins.
        path.hardlink_to(temporary)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True
