"""NoticeDeliveryWorkflow: deliver a batch of notices, one after another, then end.

A case starts it as an abandoned child (id ``notices-<first notice id>``), so a
slow or refusing receiver never keeps the case open. Each notice is one
``send_notice`` activity retried with exponential back-off; the activity
itself decides when to stop (a final answer, or ``NOTICE_DELIVERY_WINDOW``
spent) and records the outcome on the notice, so this workflow only walks the
batch. One notice that still fails (a schedule-to-close timeout, say) is
logged and the next one is tried.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from grievance_flow.workflows.contracts import ActivityName, NoticeBatch

DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
"""1 s, 2 s, 4 s ... at most 10 min apart: about 150 attempts in a 24-hour window."""

ATTEMPT = timedelta(minutes=1)
"""One attempt through every channel (the webhook's own timeout is 10 s by default)."""

DELIVERY_SCHEDULE_TO_CLOSE = timedelta(hours=25)
"""Above the longest delivery window (24 h, Settings) by more than the longest back-off,
so the activity, not this timeout, ends a delivery and records why."""

DELIVERY_WORKFLOW_ID_PREFIX = "notices-"
"""A delivery's workflow id is this and its first notice's id (``notices-<case>:<seq>``)."""

BATCH_PER_RUN = 100
"""Notices delivered per run before continuing as new, to keep each history small."""


def delivery_workflow_id(batch: NoticeBatch) -> str:
    """The workflow id of the delivery of ``batch``: stable, so starting it twice is refused.

    Raises:
        ValueError: The batch is empty.
    """
    if not batch.notices:
        raise ValueError("an empty batch of notices has nothing to deliver")
    return f"{DELIVERY_WORKFLOW_ID_PREFIX}{batch.notices[0].id}"


@workflow.defn(name="NoticeDelivery")
class NoticeDeliveryWorkflow:
    """Delivers a batch of notices in order; completes when each is delivered or failed."""

    @workflow.run
    async def run(self, batch: NoticeBatch) -> None:
        """Send each notice of ``batch`` in turn; a failed one does not stop the rest."""
        for done, notice in enumerate(batch.notices):
            if done >= BATCH_PER_RUN or workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(NoticeBatch(notices=batch.notices[done:]))
            try:
                await workflow.execute_activity(
                    ActivityName.SEND_NOTICE.value,
                    notice,
                    start_to_close_timeout=ATTEMPT,
                    schedule_to_close_timeout=DELIVERY_SCHEDULE_TO_CLOSE,
                    retry_policy=DELIVERY_RETRY,
                )
            except ActivityError as err:
                # The notice id and the failure's kind only: its message may
                # quote what the receiver said.
                workflow.logger.warning(
                    "notice %s not delivered (%s, retry state %s)",
                    notice.id,
                    type(err.cause).__name__ if err.cause else "ActivityError",
                    err.retry_state.name if err.retry_state else "unknown",
                )
