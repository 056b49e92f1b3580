"""The projection activity: copy a case's new state and events to the read model."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from grievance_flow.store.projection import version_of
from grievance_flow.store.projection_writer import ProjectionWriter
from grievance_flow.workflows.contracts import ActivityName, ProjectInput


class ProjectionActivities:
    """Writes the read model; the only writer of the ``cases`` and ``events`` tables.

    The activity is async: it hands the projection to the worker's one
    :class:`ProjectionWriter` thread, which commits many at once, and waits.
    """

    def __init__(self, engine: Engine, writer: ProjectionWriter | None = None) -> None:
        """Write into ``engine`` through ``writer`` (the worker's one; by default its own)."""
        self._writer = writer or ProjectionWriter(engine)

    @activity.defn(name=ActivityName.PROJECT.value)
    async def project_case(self, request: ProjectInput) -> None:
        """Upsert the case and insert its new events; safe to retry (idempotent on seq)."""
        await self._writer.write(
            request.case, request.events, version=version_of(request.task_started_at)
        )
