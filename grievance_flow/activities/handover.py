"""The hand-over activity: deliver a case's queued notices, or start their delivery workflow.

A case does not deliver its notices itself: a receiver that is down must not
keep it open, and a merge storm's notices should go out together. Nor does it
start the delivery as a child workflow, whose progress would keep writing
into the case's history after it has handed the notices over. It gives them,
as one batch, to this activity.

When every channel is in-process (the log only: no ``NOTICE_WEBHOOK_URL``),
there is nothing to wait on or retry, so the activity delivers and records the
batch itself. A delivery workflow per batch would cost the server a start,
two workflow tasks and an activity per notice, as much as the case's own
clock step (README, "SLA clocks under load"). Otherwise, or if an in-process
delivery fails, it starts a ``NoticeDelivery`` workflow whose id is the first
undelivered notice's id: starting it again (a retried attempt, a replayed
case) is refused by Temporal and changes nothing.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from grievance_flow.activities.notices import NoticeActivities
from grievance_flow.workflows.contracts import ActivityName, NoticeBatch
from grievance_flow.workflows.notice_delivery import NoticeDeliveryWorkflow, delivery_workflow_id

DELIVERED_HERE_PREFIX = "delivered-here:"
"""The hand-over's answer when it delivered the whole batch itself, before its first id."""


class NoticeHandover:
    """Delivers a batch in-process, or starts its delivery with the worker's own client."""

    def __init__(self, client: Client, notices: NoticeActivities | None = None) -> None:
        """Start deliveries with ``client``; deliver here through ``notices`` when it can.

        Args:
            client: The worker's Temporal client.
            notices: The worker's notice activities; when their notifier is
                in-process, batches are delivered here. None: always start a
                delivery workflow.
        """
        self._client = client
        self._notices = notices if notices is not None and notices.in_process else None

    @activity.defn(name=ActivityName.HAND_OVER_NOTICES.value)
    async def hand_over_notices(self, batch: NoticeBatch) -> str:
        """Deliver ``batch`` here, or start its delivery on this worker's task queue, once.

        Returns:
            ``delivered-here:<first notice id>``, or the delivery's workflow id.
        """
        rest = batch.notices
        if self._notices is not None:
            rest = await self._notices.deliver_here(batch.notices)
            if not rest:
                return f"{DELIVERED_HERE_PREFIX}{batch.notices[0].id}"
        return await self._start(NoticeBatch(notices=rest))

    async def _start(self, batch: NoticeBatch) -> str:
        workflow_id = delivery_workflow_id(batch)
        try:
            await self._client.start_workflow(
                NoticeDeliveryWorkflow.run,
                batch,
                id=workflow_id,
                task_queue=activity.info().task_queue,
                # Never a second delivery of the same batch, even after the first ended.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            activity.logger.info("delivery %s was already started", workflow_id)
        return workflow_id
