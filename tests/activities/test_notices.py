"""The notice activity: stored once, each attempt recorded, bounded by the delivery window.

These run the activity in an ``ActivityEnvironment`` against a real HTTP
receiver, one attempt per call, as Temporal would call it on each retry; the
scenarios through a real worker are in tests/workflows/test_notice_delivery.py.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import Engine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from grievance_flow.activities.notices import RETRY_ERROR_TYPE, NoticeActivities
from grievance_flow.notify import DeliveryError, LogChannel, Notifier, WebhookChannel
from grievance_flow.store.notices import (
    DeliveryStatus,
    NoticeDelivery,
    delivery_of,
    is_delivered,
    list_notices,
)
from grievance_flow.workflows.contracts import Notice
from tests.receiver import WebhookReceiver
from tests.store.factories import make_notice

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)
NOTICE = make_notice("grievance-T-9:4", case_id="grievance-T-9", unit="grid-3", at=NOW)


class Clock:
    """The activity's clock, moved by the test."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def send(
    activities: NoticeActivities,
    notice: Notice = NOTICE,
    *,
    scheduled: datetime = NOW,
    attempt_scheduled: datetime | None = None,
) -> None:
    """One attempt, as Temporal runs it: first scheduled at ``scheduled``."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        scheduled_time=scheduled,
        current_attempt_scheduled_time=attempt_scheduled or scheduled,
    )
    env.run(activities.send_notice, notice)


def activities_for(
    engine: Engine, receiver: WebhookReceiver, clock: Clock | None = None
) -> NoticeActivities:
    notifier = Notifier(
        [LogChannel(), WebhookChannel(receiver.url, timeout=5)], delivery_window=WINDOW
    )
    return NoticeActivities(engine, notifier, clock=clock or Clock())


def state(engine: Engine, notice: Notice = NOTICE) -> NoticeDelivery:
    found = delivery_of(engine, notice.id)
    assert found is not None
    return found


def test_a_notice_is_recorded_delivered_and_marked(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with WebhookReceiver() as receiver, caplog.at_level(logging.INFO, "grievance_flow.notify"):
        send(activities_for(engine, receiver))

    assert list_notices(engine, unit="grid-3") == ([NOTICE], 1)
    assert is_delivered(engine, NOTICE.id)
    delivered = state(engine)
    assert (delivered.status, delivered.attempts, delivered.delivered_at) == (
        DeliveryStatus.DELIVERED,
        1,
        NOW,
    )
    assert [d.body["id"] for d in receiver.deliveries] == [NOTICE.id]
    assert [r.getMessage().split()[1] for r in caplog.records] == [NOTICE.id]


def test_a_404_is_final_after_one_attempt_and_the_activity_completes(engine: Engine) -> None:
    with WebhookReceiver([404]) as receiver:
        activities = activities_for(engine, receiver)
        send(activities)  # returns: nothing for Temporal to retry
        send(activities)  # a duplicate call (an old case's retry) sends nothing more

    assert len(receiver.deliveries) == 1
    failed = state(engine)
    assert (failed.status, failed.attempts, failed.delivered_at) == (
        DeliveryStatus.FAILED,
        1,
        None,
    )
    assert failed.last_error == f"webhook {receiver.url} answered 404"
    assert failed.last_attempt_at == NOW


def test_a_500_is_retried_and_recorded_then_delivered(engine: Engine) -> None:
    clock = Clock()
    with WebhookReceiver([500, 503]) as receiver:
        activities = activities_for(engine, receiver, clock)
        with pytest.raises(ApplicationError) as error:
            send(activities)
        assert error.value.type == RETRY_ERROR_TYPE
        assert error.value.next_retry_delay is None  # the retry policy's back-off
        assert isinstance(error.value.__cause__, DeliveryError)
        retrying = state(engine)
        assert (retrying.status, retrying.attempts, retrying.last_error) == (
            DeliveryStatus.RETRYING,
            1,
            f"webhook {receiver.url} answered 500",
        )

        clock.now += timedelta(seconds=1)
        with pytest.raises(ApplicationError, match="answered 503"):
            send(activities)
        clock.now += timedelta(seconds=2)
        send(activities)

    delivered = state(engine)
    assert (delivered.status, delivered.attempts, delivered.delivered_at) == (
        DeliveryStatus.DELIVERED,
        3,
        NOW + timedelta(seconds=3),
    )
    assert list_notices(engine) == ([NOTICE], 1)
    assert [d.headers["Idempotency-Key"] for d in receiver.deliveries] == [NOTICE.id] * 3


@pytest.mark.parametrize(
    ("header", "delay"),
    [
        ("7", timedelta(seconds=7)),
        ("86400", WINDOW + timedelta(seconds=1)),  # no later than the window's end
    ],
)
def test_retry_after_sets_the_next_retry_delay(
    engine: Engine, header: str, delay: timedelta
) -> None:
    with (
        WebhookReceiver([(429, {"Retry-After": header})]) as receiver,
        pytest.raises(ApplicationError) as error,
    ):
        send(activities_for(engine, receiver))
    assert error.value.next_retry_delay == delay
    assert state(engine).status is DeliveryStatus.RETRYING


def test_retry_after_as_an_http_date(engine: Engine) -> None:
    # The date is read against the wall clock (the receiver's and ours), so
    # the header is built from it: two minutes from now, to the second.
    when = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
    with (
        WebhookReceiver([(503, {"Retry-After": when})]) as receiver,
        pytest.raises(ApplicationError) as error,
    ):
        send(activities_for(engine, receiver))
    requested = error.value.next_retry_delay
    assert requested is not None
    assert timedelta(seconds=60) < requested <= timedelta(minutes=2)


def test_an_attempt_after_the_window_marks_it_failed_without_posting(engine: Engine) -> None:
    clock = Clock()
    with WebhookReceiver([500]) as receiver:
        activities = activities_for(engine, receiver, clock)
        with pytest.raises(ApplicationError):
            send(activities)
        clock.now = NOW + WINDOW + timedelta(seconds=1)
        send(activities)  # returns: the window is spent

    assert len(receiver.deliveries) == 1
    failed = state(engine)
    assert (failed.status, failed.attempts, failed.last_attempt_at) == (
        DeliveryStatus.FAILED,
        1,
        NOW,
    )
    assert failed.last_error == (
        f"webhook {receiver.url} answered 500; gave up: the 1 h delivery window ran out"
    )


def test_the_server_clock_counts_when_it_is_ahead(engine: Engine) -> None:
    # The time-skipping test server jumps its clock; our wall clock stays put.
    with WebhookReceiver([500]) as receiver:
        activities = activities_for(engine, receiver)
        with pytest.raises(ApplicationError):
            send(activities)
        send(activities, attempt_scheduled=NOW + WINDOW * 2)

    assert len(receiver.deliveries) == 1
    assert state(engine).status is DeliveryStatus.FAILED


def test_a_notice_due_long_ago_gets_one_attempt(engine: Engine) -> None:
    # A notice queued a day ago (an old case's, stuck behind a receiver that
    # refused it; or the last of a long batch): one try, and it is final.
    old = dataclasses.replace(NOTICE, id="grievance-T-9:2", at=NOW - timedelta(days=1))
    with WebhookReceiver([503, 204]) as receiver:
        activities = activities_for(engine, receiver)
        send(activities, old)
        send(activities, old)  # already failed: nothing more
        later = dataclasses.replace(old, id="grievance-T-9:3")
        send(activities, later)  # a receiver that is back gets it

    assert len(receiver.deliveries) == 2
    failed = state(engine, old)
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 1)
    assert failed.last_error is not None and failed.last_error.endswith("window ran out")
    assert state(engine, later).status is DeliveryStatus.DELIVERED


def test_a_retry_after_delivery_sends_nothing_more(engine: Engine) -> None:
    # The first attempt finished but its completion never reached Temporal.
    with WebhookReceiver() as receiver:
        activities = activities_for(engine, receiver)
        send(activities)
        send(activities)

    assert len(receiver.deliveries) == 1
    assert list_notices(engine)[1] == 1
    assert state(engine).attempts == 1


class Broken:
    """A channel with a bug."""

    in_process = True

    def deliver(self, notice: Notice) -> None:
        raise KeyError(notice.message)


def test_a_channel_bug_is_recorded_without_its_text_and_retried(engine: Engine) -> None:
    activities = NoticeActivities(engine, Notifier([Broken()]), clock=Clock())
    with pytest.raises(KeyError):
        send(activities)
    broken = state(engine)
    assert (broken.status, broken.last_error) == (
        DeliveryStatus.RETRYING,
        "internal error: KeyError",
    )
