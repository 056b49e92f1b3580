"""The webhook outbox: written with the projection, drained in order, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from grievance_flow.store import webhooks as outbox
from grievance_flow.store.projection import project_case
from grievance_flow.workflows.contracts import Actor, Event, EventType, Role, Stage
from tests.store.factories import T0, make_case, make_events

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def subscribe(engine: Engine, events: list[str] | None = None) -> outbox.Subscription:
    return outbox.create_subscription(
        engine, url="http://127.0.0.1:9/hook", events=events, secret=SECRET, at=T0
    )


def queued(engine: Engine, subscription: outbox.Subscription) -> list[tuple[str, int, str]]:
    found, _ = outbox.list_deliveries(engine, subscription.id, limit=500)
    return sorted((d.case_id, d.seq, d.type) for d in found)


def test_the_projection_queues_each_public_event_for_each_subscriber_that_wants_it(
    engine: Engine,
) -> None:
    everything, closing, gone = (
        subscribe(engine),
        subscribe(engine, ["dispatched"]),
        subscribe(engine),
    )
    outbox.delete_subscription(engine, gone.id, at=T0)
    case = make_case("wh-1", last_seq=6)
    events = make_events(5)
    events.append(
        Event(
            seq=6,
            type=EventType.SUMMONS_CLOSED,
            at=T0 + timedelta(hours=1),
            actor=Actor(Role.SYSTEM),
            stage=Stage.HANDLE,
        )
    )
    project_case(engine, case, events)
    project_case(engine, case, events)  # a retried projection queues nothing more

    assert [seq for _, seq, _ in queued(engine, everything)] == [1, 2, 3, 4, 5]
    assert queued(engine, closing) == [(case.id, 3, "dispatched")]
    assert queued(engine, gone) == []
    [first] = [d for d in outbox.list_deliveries(engine, everything.id)[0] if d.seq == 1]
    assert first.payload["id"] == f"{case.id}:1" and first.payload["type"] == "case.reported"
    assert first.status is outbox.WebhookStatus.PENDING and first.message_id == f"{case.id}:1"


def test_only_the_oldest_undelivered_message_of_a_case_is_due(engine: Engine) -> None:
    subscription = subscribe(engine)
    one, two = make_case("wh-a", last_seq=3), make_case("wh-b", last_seq=2)
    project_case(engine, one, make_events(3))
    project_case(engine, two, make_events(2))
    later = T0 + timedelta(days=400)

    def due() -> list[tuple[str, int]]:
        found = outbox.due_deliveries(engine, subscription.id, now=later, limit=50)
        return [(d.case_id, d.seq) for d in found]

    assert sorted(due()) == [(one.id, 1), (two.id, 1)]
    head = next(d for d in outbox.due_deliveries(engine, subscription.id, now=later, limit=50))
    outbox.mark_retrying(engine, head, later, "answered 500", later + timedelta(minutes=1))
    # Its case waits for the retry; the other case goes on.
    waiting = head.case_id
    assert all(case_id != waiting for case_id, _ in due())
    [retrying] = [
        d
        for d in outbox.list_deliveries(engine, subscription.id)[0]
        if (d.case_id, d.seq) == (head.case_id, head.seq)
    ]
    assert (retrying.status, retrying.attempts, retrying.last_error) == (
        outbox.WebhookStatus.RETRYING,
        1,
        "answered 500",
    )
    assert outbox.next_due(engine, subscription.id) is not None
    outbox.mark_delivered(engine, retrying, later)
    assert (waiting, 2) in due()


def test_a_failed_delivery_lets_its_case_go_on_and_can_be_retried(engine: Engine) -> None:
    subscription = subscribe(engine)
    case = make_case("wh-f", last_seq=2)
    project_case(engine, case, make_events(2))
    later = T0 + timedelta(days=400)
    [head] = outbox.due_deliveries(engine, subscription.id, now=later, limit=50)
    outbox.mark_failed(engine, head, later, "answered 410")
    assert [d.seq for d in outbox.due_deliveries(engine, subscription.id, now=later, limit=50)] == [
        2
    ]
    failed, total = outbox.list_deliveries(
        engine, subscription.id, status=outbox.WebhookStatus.FAILED
    )
    assert ([d.seq for d in failed], total) == ([1], 1)
    again = outbox.retry_delivery(engine, subscription.id, case.id, 1, at=later)
    assert again is not None and again.status is outbox.WebhookStatus.PENDING
    assert again.window_started_at == later and again.attempts == 1
    assert outbox.retry_delivery(engine, subscription.id, case.id, 1, at=later) is None
    with pytest.raises(LookupError):
        outbox.retry_delivery(engine, subscription.id, case.id, 9, at=later)


def test_subscriptions_listed_and_deleted(engine: Engine) -> None:
    kept, dropped = subscribe(engine), subscribe(engine, ["closed"])
    assert outbox.delete_subscription(engine, dropped.id, at=T0)
    assert not outbox.delete_subscription(engine, dropped.id, at=T0)
    assert [s.id for s in outbox.list_subscriptions(engine) if s.id in (kept.id, dropped.id)] == [
        kept.id
    ]
    found = outbox.get_subscription(engine, dropped.id)
    assert found is not None and found.deleted_at is not None and found.events == ["closed"]
