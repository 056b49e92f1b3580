"""The notice activity: stored once, delivered at least once, marked when delivered."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine
from temporalio.testing import ActivityEnvironment

from grievance_flow.activities.notices import NoticeActivities
from grievance_flow.notify import DeliveryError, LogChannel, Notifier, WebhookChannel
from grievance_flow.store.notices import is_delivered, list_notices
from grievance_flow.workflows.contracts import Notice
from tests.store.factories import make_notice
from tests.webhooks import WebhookReceiver

NOTICE = make_notice("grievance-T-9/chase/handle/1", case_id="grievance-T-9", unit="grid-3")


def send(activities: NoticeActivities, notice: Notice) -> None:
    ActivityEnvironment().run(activities.send_notice, notice)


def notifier_for(receiver: WebhookReceiver) -> Notifier:
    return Notifier([LogChannel(), WebhookChannel(receiver.url, timeout=5)])


def test_a_notice_is_recorded_delivered_and_marked(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with WebhookReceiver() as receiver, caplog.at_level(logging.INFO, "grievance_flow.notify"):
        send(NoticeActivities(engine, notifier_for(receiver)), NOTICE)

    assert list_notices(engine, unit="grid-3") == ([NOTICE], 1)
    assert is_delivered(engine, NOTICE.id)
    assert [d.body["id"] for d in receiver.deliveries] == [NOTICE.id]
    assert [r.getMessage().split()[1] for r in caplog.records] == [NOTICE.id]


def test_a_retry_after_a_webhook_failure_delivers_without_a_second_row(engine: Engine) -> None:
    with WebhookReceiver([500]) as receiver:
        activities = NoticeActivities(engine, notifier_for(receiver))
        with pytest.raises(DeliveryError, match="answered 500"):
            send(activities, NOTICE)
        # Failed: stored, so a dispatcher can see it, but not delivered.
        assert list_notices(engine) == ([NOTICE], 1)
        assert not is_delivered(engine, NOTICE.id)

        send(activities, NOTICE)  # Temporal's retry

    assert list_notices(engine) == ([NOTICE], 1)
    assert is_delivered(engine, NOTICE.id)
    assert [d.headers["Idempotency-Key"] for d in receiver.deliveries] == [NOTICE.id] * 2


def test_a_retry_after_delivery_sends_nothing_more(engine: Engine) -> None:
    # The first attempt finished but its completion never reached Temporal.
    with WebhookReceiver() as receiver:
        activities = NoticeActivities(engine, notifier_for(receiver))
        send(activities, NOTICE)
        send(activities, NOTICE)

    assert len(receiver.deliveries) == 1
    assert list_notices(engine)[1] == 1
