"""A case's state and timeline rebuilt from its Temporal history alone.

The workflow hands its state to the ``project_case`` local activity after every
transition (``ProjectInput(case, events)``, see ``workflows/keepers.py``). A
replay runs the same code over the recorded history, so it hands over the same
inputs again, without running any activity: an interceptor on the replayer
keeps each one. The last input's case plus every event handed over is exactly
what the read model was given, so it can be re-projected, and shown to an
auditor, without trusting the read model.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import (
    Interceptor,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from grievance_flow.audit.histories import AuditError, check_grievance_history
from grievance_flow.audit.replayer import describe_replay_failure, grievance_replayer
from grievance_flow.workflows.contracts import ActivityName, CaseView, Event, ProjectInput


class ReplayFailedError(AuditError):
    """The history does not replay against the current code, so nothing is rebuilt from it."""


class ProjectionCapture(Interceptor):
    """Keeps every ``ProjectInput`` the workflow hands to ``project_case`` while it replays.

    The interceptor classes are created here, outside the workflow sandbox, so
    the list they append to is this object's own and outlives the replay.
    """

    def __init__(self) -> None:
        self.projections: list[ProjectInput] = []

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        """Wrap each replayed workflow's outbound calls with a capturing interceptor."""
        projections = self.projections

        class _CapturingOutbound(WorkflowOutboundInterceptor):
            def start_local_activity(
                self, input: StartLocalActivityInput
            ) -> workflow.ActivityHandle[Any]:
                if input.activity == ActivityName.PROJECT.value and input.args:
                    projections.append(_as_delivered(input.args[0]))
                return self.next.start_local_activity(input)

            def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
                # A projection the read model refused for a while is retried as a
                # normal activity (keepers.py): it was handed over all the same.
                if input.activity == ActivityName.PROJECT.value and input.args:
                    projections.append(_as_delivered(input.args[0]))
                return self.next.start_activity(input)

        class _CapturingInbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_CapturingOutbound(outbound))

        return _CapturingInbound

    def timeline(self) -> tuple[CaseView, list[Event]] | None:
        """The newest case handed over and every event, oldest first; None if none was."""
        if not self.projections:
            return None
        latest = self.projections[0]
        events: dict[int, Event] = {}
        for projection in self.projections:
            # ">=": of equal states the later one is what the read model kept.
            if projection.case.last_seq >= latest.case.last_seq:
                latest = projection
            # A projection cancelled at close is handed over again; one copy per seq.
            events.update((event.seq, event) for event in projection.events)
        return latest.case, [events[seq] for seq in sorted(events)]


def _as_delivered(argument: object) -> ProjectInput:
    # Through the workflow's payload converter and back, as the activity would
    # receive it: a deep copy (the workflow keeps mutating its live case) with
    # exactly the types and values the read model was written from.
    converter = workflow.payload_converter()
    (delivered,) = converter.from_payloads(converter.to_payloads([argument]), [ProjectInput])
    assert isinstance(delivered, ProjectInput)
    return delivered


async def projections_of(
    history: WorkflowHistory, *, data_converter: DataConverter | None = None
) -> list[ProjectInput]:
    """Replay ``history`` and return every projection it handed over, in order.

    Raises:
        NotAHistoryError: The history is unusable (no start event, no run id).
        ForeignHistoryError: It is not a GrievanceWorkflow history.
        ReplayFailedError: The current code does not reproduce it.
    """
    return (await _captured(history, data_converter)).projections


async def _captured(
    history: WorkflowHistory, data_converter: DataConverter | None
) -> ProjectionCapture:
    history = check_grievance_history(history)
    capture = ProjectionCapture()
    try:
        replayer = grievance_replayer(interceptors=[capture], data_converter=data_converter)
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    except Exception as exc:  # the core rejects some damaged histories by raising
        raise ReplayFailedError(describe_replay_failure(exc)) from exc
    if result.replay_failure is not None:
        raise ReplayFailedError(describe_replay_failure(result.replay_failure))
    return capture


async def rebuild_from_history(
    history: WorkflowHistory, *, data_converter: DataConverter | None = None
) -> tuple[CaseView, list[Event]] | None:
    """Replay ``history`` and return the case and timeline it projected.

    Args:
        history: A grievance's history, complete or of a case still open.

    Returns:
        The last projected case and all projected events (oldest first), or
        None when the history never got as far as projecting anything.

    Raises:
        NotAHistoryError: The history is unusable (no start event, no run id).
        ForeignHistoryError: It is not a GrievanceWorkflow history.
        ReplayFailedError: The current code does not reproduce it.
    """
    return (await _captured(history, data_converter)).timeline()
