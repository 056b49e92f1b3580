"""The webhook drain: one subscriber's outbox, sent in order, for a few minutes at a time.

A long-running activity that heartbeats (Temporal's pattern for polling): it
sends what is due, sleeps until the next retry or for a poll interval when
nothing is, and returns after :attr:`WebhookDrain.budget` so that its
workflow's history grows by one activity per run, not per message. Killed
mid-send (its worker gone), it times out on its heartbeat and runs again
elsewhere: a message whose answer was lost is sent again with the same
``webhook-id`` (at least once), which receivers de-duplicate on.

What an answer means is SPEC §10's (``notify/answers.py``): 2xx delivered;
timeouts, transport errors, 5xx, 408 and 429 retried with exponential
back-off and jitter (or after ``Retry-After``) until 24 h after the message
was queued; any other 4xx, or the window spent, ``failed``. A failure that may
pass also pauses the whole subscriber until that retry: it is probably down,
and hammering its other messages would not help.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from temporalio import activity

from grievance_flow.notify.answers import classify_answer
from grievance_flow.notify.webhook import USER_AGENT, receiver_name
from grievance_flow.store import webhooks as outbox
from grievance_flow.webhooks.signing import headers
from grievance_flow.workflows.contracts import ActivityName, DrainResult, WebhookSubscriberInput

_log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=10)
BATCH = 50
"""Messages read from the outbox at a time."""


def backoff(attempts: int, *, rng: Callable[[], float] = random.random) -> timedelta:
    """The wait after ``attempts`` failed attempts: 1 s, 2 s, 4 s... ≤ 10 min, ±20 % jitter."""
    doublings = min(max(attempts - 1, 0), 30)  # 2**30 s is far past the cap
    base: timedelta = min(FIRST_RETRY * (2**doublings), LONGEST_RETRY)
    return base * (0.8 + 0.4 * rng())


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookDrain:
    """Sends subscribers' outboxes with one HTTP client per worker."""

    def __init__(
        self,
        engine: Engine,
        *,
        window: timedelta = timedelta(hours=24),
        timeout: float = 10.0,
        budget: timedelta = timedelta(minutes=5),
        poll: timedelta = timedelta(seconds=1),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """Drain into subscribers' URLs from ``engine``'s outbox.

        Args:
            engine: The read model holding subscriptions and deliveries.
            window: How long after it was queued a message is retried.
            timeout: Seconds one attempt may take.
            budget: How long one activity run drains before it returns.
            poll: How often an idle drain looks for new messages.
            clock: The current time (tests move it).
        """
        self._engine = engine
        self._window = window
        self._timeout = timeout
        self._budget = budget
        self._poll = poll
        self._clock = clock

    @activity.defn(name=ActivityName.DRAIN_WEBHOOKS.value)
    async def drain_webhooks(self, request: WebhookSubscriberInput) -> DrainResult:
        """Send the subscriber's due messages until the budget is spent or it is deleted."""
        ends = time.monotonic() + self._budget.total_seconds()
        sent = 0
        paused_until: datetime | None = None
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            while time.monotonic() < ends:
                activity.heartbeat(sent)
                subscription = await asyncio.to_thread(
                    outbox.get_subscription, self._engine, request.subscription_id
                )
                if subscription is None or subscription.deleted_at is not None:
                    return DrainResult(ended=True, sent=sent)
                if paused_until is not None and self._clock() < paused_until:
                    await self._idle(request.subscription_id, paused_until, ends)
                    continue
                paused_until = None
                due = await asyncio.to_thread(
                    outbox.due_deliveries,
                    self._engine,
                    request.subscription_id,
                    now=self._clock(),
                    limit=BATCH,
                )
                for delivery in due:
                    paused_until = await self._attempt(client, subscription, delivery)
                    activity.heartbeat(sent)
                    if paused_until is not None:
                        break
                    sent += 1
                if due and paused_until is None:
                    continue  # more may be due at once
                await self._idle(request.subscription_id, paused_until, ends)
        return DrainResult(ended=False, sent=sent)

    async def _idle(self, subscription_id: str, paused_until: datetime | None, ends: float) -> None:
        """Sleep until the next retry, at most one poll interval (new messages come anytime)."""
        wait = self._poll.total_seconds()
        upcoming = paused_until or await asyncio.to_thread(
            outbox.next_due, self._engine, subscription_id
        )
        if upcoming is not None:
            wait = min(wait, max((upcoming - self._clock()).total_seconds(), 0.0))
        await asyncio.sleep(max(min(wait, ends - time.monotonic()), 0.01))

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        subscription: outbox.Subscription,
        delivery: outbox.Delivery,
    ) -> datetime | None:
        """One attempt; the time to pause the subscriber until, when it may be down."""
        now = self._clock()
        window_ends = delivery.window_started_at + self._window
        if now >= window_ends and delivery.attempts > 0:
            reason = f"{delivery.last_error or 'not delivered'}; gave up: the retry window ran out"
            await asyncio.to_thread(
                outbox.mark_failed, self._engine, delivery, now, reason, attempted=False
            )
            return None
        body = _body(delivery)
        sent_headers = headers(subscription.secret, delivery.message_id, int(now.timestamp()), body)
        sent_headers["user-agent"] = USER_AGENT
        where = receiver_name(subscription.url)
        try:
            response = await client.post(subscription.url, content=body, headers=sent_headers)
        except httpx.HTTPError as exc:
            return await self._retry(
                delivery,
                now,
                window_ends,
                f"webhook {where} unreachable: {type(exc).__name__}",
                None,
            )
        failure = classify_answer(
            response.status_code,
            retry_after=response.headers.get("Retry-After"),
            now=now,
            where=where,
        )
        if failure is None:
            await asyncio.to_thread(outbox.mark_delivered, self._engine, delivery, now)
            return None
        if not failure.retryable:
            await asyncio.to_thread(outbox.mark_failed, self._engine, delivery, now, failure.reason)
            _log.warning(
                "webhook %s to %s failed: %s", delivery.id, subscription.id, failure.reason
            )
            return None
        return await self._retry(delivery, now, window_ends, failure.reason, failure.retry_after)

    async def _retry(
        self,
        delivery: outbox.Delivery,
        now: datetime,
        window_ends: datetime,
        reason: str,
        retry_after: timedelta | None,
    ) -> datetime:
        wait = retry_after if retry_after is not None else backoff(delivery.attempts + 1)
        # Past the window's end there is no point waiting: the attempt then only fails it.
        upcoming = min(now + wait, window_ends)
        await asyncio.to_thread(outbox.mark_retrying, self._engine, delivery, now, reason, upcoming)
        _log.info("webhook %s not delivered, retry at %s: %s", delivery.id, upcoming, reason)
        return upcoming


def _body(delivery: outbox.Delivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
