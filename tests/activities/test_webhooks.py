"""The webhook drain activity against a real HTTP receiver, in an ActivityEnvironment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from standardwebhooks.webhooks import Webhook
from temporalio.testing import ActivityEnvironment

from grievance_flow.activities.webhooks import WebhookDrain, backoff
from grievance_flow.store import webhooks as outbox
from grievance_flow.store.projection import project_case
from grievance_flow.webhooks.signing import new_secret
from grievance_flow.workflows.contracts import WebhookSubscriberInput
from tests.receiver import WebhookReceiver
from tests.store.factories import make_case, make_events


class Clock:
    """The drain's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def setup(engine: Engine, url: str, cases: int = 1) -> outbox.Subscription:
    subscription = outbox.create_subscription(
        engine, url=url, events=None, secret=new_secret(), at=datetime.now(UTC)
    )
    for n in range(cases):
        project_case(engine, make_case(f"drain-{n}", last_seq=2), make_events(2))
    return subscription


async def drain(
    engine: Engine,
    subscription: outbox.Subscription,
    clock: Clock,
    window: timedelta = timedelta(hours=24),
) -> int:
    activities = WebhookDrain(
        engine,
        window=window,
        budget=timedelta(seconds=0.6),
        poll=timedelta(seconds=0.05),
        timeout=2.0,
        clock=clock,
    )
    result = await ActivityEnvironment().run(
        activities.drain_webhooks, WebhookSubscriberInput(subscription_id=subscription.id)
    )
    assert not result.ended
    return result.sent


def tried(engine: Engine, subscription: outbox.Subscription) -> list[outbox.Delivery]:
    return [d for d in outbox.list_deliveries(engine, subscription.id)[0] if d.attempts]


def states(engine: Engine, subscription: outbox.Subscription) -> list[tuple[int, str, int]]:
    found, _ = outbox.list_deliveries(engine, subscription.id)
    return sorted((d.seq, d.status.value, d.attempts) for d in found)


async def test_messages_go_out_signed_in_order(sqlite_engine: Engine) -> None:
    with WebhookReceiver() as receiver:
        subscription = setup(sqlite_engine, receiver.url)
        assert await drain(sqlite_engine, subscription, Clock()) == 2
    assert [d.body["seq"] for d in receiver.deliveries] == [1, 2]
    for delivery in receiver.deliveries:
        Webhook(subscription.secret).verify(delivery.raw, delivery.headers)
    assert states(sqlite_engine, subscription) == [(1, "delivered", 1), (2, "delivered", 1)]


async def test_a_5xx_waits_its_backoff_and_pauses_the_subscriber(sqlite_engine: Engine) -> None:
    with WebhookReceiver([503]) as receiver:
        subscription = setup(sqlite_engine, receiver.url, cases=2)
        clock = Clock()
        await drain(sqlite_engine, subscription, clock)
        # One attempt only: the subscriber looks down, so nothing else is tried meanwhile.
        assert len(receiver.deliveries) == 1
        [first] = [
            d for d in outbox.list_deliveries(sqlite_engine, subscription.id)[0] if d.attempts
        ]
        assert first.status is outbox.WebhookStatus.RETRYING
        assert "answered 503" in (first.last_error or "")
        assert timedelta(seconds=0.7) <= first.next_attempt_at - clock.now <= timedelta(seconds=1.3)
        clock.now += timedelta(seconds=2)
        await drain(sqlite_engine, subscription, clock)
    assert len(receiver.deliveries) == 5  # the retry, then the other three
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 4


async def test_retry_after_is_honoured(sqlite_engine: Engine) -> None:
    with WebhookReceiver([(429, {"Retry-After": "120"})]) as receiver:
        subscription = setup(sqlite_engine, receiver.url)
        clock = Clock()
        await drain(sqlite_engine, subscription, clock)
    [first] = tried(sqlite_engine, subscription)
    assert first.next_attempt_at - clock.now == timedelta(seconds=120)
    assert len(receiver.deliveries) == 1


async def test_a_final_answer_fails_it_and_the_case_goes_on(sqlite_engine: Engine) -> None:
    with WebhookReceiver([404]) as receiver:
        subscription = setup(sqlite_engine, receiver.url)
        await drain(sqlite_engine, subscription, Clock())
    assert states(sqlite_engine, subscription) == [(1, "failed", 1), (2, "delivered", 1)]


async def test_the_window_ends_the_retries(sqlite_engine: Engine) -> None:
    with WebhookReceiver([500] * 10) as receiver:
        subscription = setup(sqlite_engine, receiver.url)
        clock = Clock()
        await drain(sqlite_engine, subscription, clock, window=timedelta(minutes=5))
        clock.now += timedelta(minutes=6)
        await drain(sqlite_engine, subscription, clock, window=timedelta(minutes=5))
    [first] = [d for d in outbox.list_deliveries(sqlite_engine, subscription.id)[0] if d.seq == 1]
    assert first.status is outbox.WebhookStatus.FAILED
    assert "retry window ran out" in (first.last_error or "")


async def test_a_deleted_subscription_ends_the_drain(sqlite_engine: Engine) -> None:
    subscription = setup(sqlite_engine, "http://127.0.0.1:9/none")
    outbox.delete_subscription(sqlite_engine, subscription.id, at=datetime.now(UTC))
    result = await ActivityEnvironment().run(
        WebhookDrain(sqlite_engine).drain_webhooks,
        WebhookSubscriberInput(subscription_id=subscription.id),
    )
    assert result.ended


def test_backoff_doubles_to_ten_minutes_with_jitter() -> None:
    assert backoff(1, rng=lambda: 0.5) == timedelta(seconds=1)
    assert backoff(4, rng=lambda: 0.5) == timedelta(seconds=8)
    assert backoff(30, rng=lambda: 0.5) == timedelta(minutes=10)
    assert backoff(1, rng=lambda: 0.0) == timedelta(seconds=0.8)
    assert backoff(1, rng=lambda: 1.0) == timedelta(seconds=1.2)
