"""WebhookSubscriberWorkflow on the dev server: a subscriber down for long grows no case history.

The drain's budget is cut to a tenth of a second, so that sixty drain runs (five
hours of a real subscriber being down, at five minutes a run) pass in seconds.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from grievance_flow.activities.webhooks import WebhookDrain
from grievance_flow.runtime import load_domain
from grievance_flow.store import webhooks as outbox
from grievance_flow.webhooks.signing import new_secret
from grievance_flow.worker import ACTIVITY_THREADS, build_worker
from grievance_flow.workflows.contracts import WebhookSubscriberInput
from grievance_flow.workflows.webhook_delivery import (
    RUNS_PER_HISTORY,
    WebhookSubscriberWorkflow,
    subscriber_workflow_id,
)
from tests.workflows.harness import Harness

HISTORY_BOUND = 8 * RUNS_PER_HISTORY
"""Events one run of a subscriber's workflow may reach: about six per drain run."""


async def test_a_subscriber_down_for_hours_grows_no_case_history(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    task_queue = f"webhooks-{uuid.uuid4()}"
    subscription = outbox.create_subscription(
        sqlite_engine,
        url="http://127.0.0.1:9/down",  # nothing listens on the discard port
        events=None,
        secret=new_secret(),
        at=datetime.now(UTC),
    )
    drain = WebhookDrain(
        sqlite_engine,
        budget=timedelta(seconds=0.1),
        poll=timedelta(seconds=0.02),
        timeout=1.0,
    )
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            dev_env.client,
            domain=load_domain(None),
            engine=sqlite_engine,
            task_queue=task_queue,
            executor=executor,
            webhooks=drain,
        )
        async with worker:
            desk = Harness(dev_env.client, task_queue, sqlite_engine)
            case = await desk.file()
            handle = await dev_env.client.start_workflow(
                WebhookSubscriberWorkflow.run,
                WebhookSubscriberInput(subscription_id=subscription.id),
                id=subscriber_workflow_id(subscription.id),
                task_queue=task_queue,
            )
            before = len((await case.fetch_history()).events)
            # Without a run id: the latest run, after it continues as new.
            latest = dev_env.client.get_workflow_handle(handle.id)
            runs = 0
            for _ in range(600):
                history = await latest.fetch_history()
                started = history.events[0].workflow_execution_started_event_attributes
                runs = json.loads(started.input.payloads[0].data).get("runs", 0)
                if runs >= RUNS_PER_HISTORY:
                    break
                await asyncio.sleep(0.1)
            assert runs >= RUNS_PER_HISTORY, runs  # it continued as new at least once
            await asyncio.sleep(1.0)  # some runs into the new history
            history = await latest.fetch_history()
            assert len(history.events) <= HISTORY_BOUND
            description = await latest.describe()
            assert description.status is WorkflowExecutionStatus.RUNNING
            # The case's own history did not move while its messages waited.
            assert len((await case.fetch_history()).events) == before
            [waiting] = [
                d
                for d in outbox.list_deliveries(sqlite_engine, subscription.id, limit=500)[0]
                if d.case_id == case.id and d.attempts
            ]
            assert waiting.status is outbox.WebhookStatus.RETRYING
            outbox.delete_subscription(sqlite_engine, subscription.id, at=datetime.now(UTC))
            total_runs = await asyncio.wait_for(latest.result(), 10)
            assert total_runs > runs
            final = await latest.fetch_history()
            assert final.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
