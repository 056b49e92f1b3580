"""``grievance projection rebuild``: the read model, re-projected from Temporal."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import Engine
from temporalio.client import Client

from grievance_flow.audit.rebuild import RebuildSummary, rebuild_read_model
from grievance_flow.cli.progress import ProgressBar
from grievance_flow.cli.system import SystemNotFoundError, connect, locate_system
from grievance_flow.runtime import open_database


def rebuild_command(*, data_dir: Path | None) -> int:
    """Re-project every case into ``DATABASE_URL`` or the data dir's SQLite read model.

    Returns:
        0 when every case was rebuilt (or had nothing to project yet), 1 when
        some failed, 2 when no system could be reached.
    """
    try:
        settings, source = locate_system(data_dir)
    except SystemNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def rebuild() -> int:
        try:
            client = await connect(settings, source)
        except SystemNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        # Migrates too: rebuilding into a dropped (empty) read model is the point.
        engine = open_database(settings)
        try:
            summary = await _rebuild(client, engine)
        finally:
            engine.dispose()
        _report(summary)
        return 1 if summary.failed else 0

    return asyncio.run(rebuild())


async def _rebuild(client: Client, engine: Engine) -> RebuildSummary:
    bar: ProgressBar | None = None

    def start(total: int) -> None:
        nonlocal bar
        bar = ProgressBar(total)
        bar.draw()

    def advance() -> None:
        if bar is not None:
            bar.advance()

    try:
        return await rebuild_read_model(client, engine, on_total=start, on_progress=advance)
    finally:
        if bar is not None:
            bar.finish()


def _report(summary: RebuildSummary) -> None:
    for source, reason in summary.failed:
        print(f"FAIL {source}: {reason}", file=sys.stderr)
    print(
        f"cases rebuilt: {len(summary.rebuilt)}, skipped (nothing projected yet): "
        f"{len(summary.skipped)}, failed: {len(summary.failed)}"
    )
