"""The projection activity: copy a case's new state and events to the read model."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from grievance_flow.store.projection import project_case, version_of
from grievance_flow.workflows.contracts import ActivityName, ProjectInput


class ProjectionActivities:
    """Writes the read model; the only writer of the ``cases`` and ``events`` tables."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name=ActivityName.PROJECT.value)
    def project_case(self, request: ProjectInput) -> None:
        """Upsert the case and insert its new events; safe to retry (idempotent on seq)."""
        project_case(
            self._engine, request.case, request.events, version=version_of(request.task_started_at)
        )
