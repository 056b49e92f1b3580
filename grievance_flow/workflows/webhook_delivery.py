"""WebhookSubscriberWorkflow: one per subscriber, draining its outbox for as long as it exists.

Started (id ``webhooks-<subscription id>``) when an admin subscribes, and ended
when the subscription is deleted. It holds no messages itself: they wait in
the read model's outbox, written with the events' projection, so no case's
workflow waits for, or records anything about, a delivery. Each drain
activity runs a few minutes (``activities/webhooks.py``); its history grows by
one activity per run and continues as new every :data:`RUNS_PER_HISTORY`
runs, however long the subscriber is down.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from grievance_flow.workflows.contracts import (
        ActivityName,
        DrainResult,
        WebhookSubscriberInput,
    )

WORKFLOW_ID_PREFIX = "webhooks-"
RUNS_PER_HISTORY = 50
"""Drain runs per history (about 4 h at 5 minutes a run) before continuing as new."""

DRAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""A drain that failed (its worker killed, the database away) runs again, without end."""


def subscriber_workflow_id(subscription_id: str) -> str:
    """The workflow id of a subscriber's delivery."""
    return f"{WORKFLOW_ID_PREFIX}{subscription_id}"


@workflow.defn(name="WebhookSubscriber")
class WebhookSubscriberWorkflow:
    """Drains one subscriber's outbox until its subscription is deleted."""

    @workflow.run
    async def run(self, request: WebhookSubscriberInput) -> int:
        """Run drains one after another; return how many runs it took in all."""
        runs = request.runs
        while True:
            result = await workflow.execute_activity(
                ActivityName.DRAIN_WEBHOOKS.value,
                request,
                result_type=DrainResult,
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=DRAIN_RETRY,
            )
            runs += 1
            if result.ended:
                return runs
            if runs - request.runs >= RUNS_PER_HISTORY or (
                workflow.info().is_continue_as_new_suggested()
            ):
                workflow.continue_as_new(
                    WebhookSubscriberInput(subscription_id=request.subscription_id, runs=runs)
                )
