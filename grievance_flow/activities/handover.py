"""The hand-over activity: start the delivery workflow of a case's queued notices.

A case does not deliver its notices itself: a receiver that is down must not
keep it open, and a merge storm's notices should go out together. Nor does it
start the delivery as a child workflow, whose progress would keep writing
into the case's history after it has handed the notices over. It gives them,
as one batch, to this activity, which starts a ``NoticeDelivery`` workflow
whose id is the batch's first notice id: starting it again (a retried attempt,
a replayed case) is refused by Temporal and changes nothing.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from grievance_flow.workflows.contracts import ActivityName, NoticeBatch
from grievance_flow.workflows.notice_delivery import NoticeDeliveryWorkflow, delivery_workflow_id


class NoticeHandover:
    """Starts notice deliveries with the worker's own Temporal client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name=ActivityName.HAND_OVER_NOTICES.value)
    async def hand_over_notices(self, batch: NoticeBatch) -> str:
        """Start the delivery of ``batch`` on this worker's task queue, once.

        Returns:
            The delivery's workflow id.
        """
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
