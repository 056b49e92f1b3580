"""Re-projecting every case from Temporal, the source of truth, into the read model.

Each case's history is replayed (no activity runs), the state the workflow
projected is recovered (:mod:`grievance_flow.audit.timeline`), and written with
the same idempotent, monotonic ``project_case`` the projection activity uses.
So a rebuild may run on an empty read model, on a current one (no change), or
while workers are projecting (a newer row is never rolled back), and may be
repeated at will.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from temporalio.client import Client

from grievance_flow.audit.histories import AuditError
from grievance_flow.audit.live import ALL_GRIEVANCES, fetch_histories, matching_runs
from grievance_flow.audit.timeline import projections_of
from grievance_flow.store.projection import project_case, version_of


@dataclass
class RebuildSummary:
    """What a rebuild did.

    Attributes:
        rebuilt: Case ids written to the read model.
        skipped: Case ids whose history never projected anything (nothing to write).
        failed: ``(source, reason)`` for each history that could not be rebuilt.
    """

    rebuilt: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


async def rebuild_read_model(
    client: Client,
    engine: Engine,
    *,
    query: str = ALL_GRIEVANCES,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[], None] | None = None,
) -> RebuildSummary:
    """Re-project every case the visibility ``query`` matches.

    Args:
        client: A connected client on the cases' namespace.
        engine: The read model (migrated).
        query: Which workflows; by default every GrievanceWorkflow.
        on_total: Told how many runs will be rebuilt, once they are listed.
        on_progress: Called after each run, for a progress display.
    """
    summary = RebuildSummary()
    runs = await matching_runs(client, query)
    if on_total is not None:
        on_total(len(runs))
    async for live in fetch_histories(client, runs):
        try:
            if live.history is None:
                raise AuditError(live.error or "no history")
            projections = await projections_of(live.history, data_converter=client.data_converter)
            if not projections:
                summary.skipped.append(live.workflow_id)
            else:
                # Each as the projection activity wrote it, version included, so
                # a rebuild on a live read model converges on the same rows.
                for projection in projections:
                    await asyncio.to_thread(
                        project_case,
                        engine,
                        projection.case,
                        projection.events,
                        version=version_of(projection.task_started_at),
                    )
                summary.rebuilt.append(projections[-1].case.id)
        except Exception as exc:  # one bad case must not stop the others being rebuilt
            summary.failed.append((live.source, str(exc) or type(exc).__name__))
        if on_progress is not None:
            on_progress()
    return summary
