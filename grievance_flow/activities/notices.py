"""The notice activity: store a notice, deliver it, record how the attempt went.

Delivery is at-least-once and bounded. A failure that may pass (a timeout, a
refused connection, 5xx, 408, 429) is recorded as ``retrying`` and raised, so
Temporal tries again with back-off (sooner or later as the receiver's
``Retry-After`` asks). A final answer (any other 4xx) is recorded as ``failed``
and the activity *completes*: nothing waits on a notice the receiver refused.
The same happens once the delivery window (``NOTICE_DELIVERY_WINDOW``) has run
out, whatever retry policy the caller gave, so even a case scheduling this
with unlimited retries gets its answer within the window. Recording again is a
no-op (the notice id is the key), but channels that took the notice before a
failure get it again: receivers de-duplicate by the notice id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection, Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from grievance_flow.notify.channels import DeliveryError
from grievance_flow.notify.notifier import Notifier
from grievance_flow.store.notices import (
    NoticeDelivery,
    delivery_of,
    mark_delivered,
    mark_failed,
    mark_retrying,
    record_delivered_into,
    record_notice,
)
from grievance_flow.store.projection_writer import ProjectionWriter
from grievance_flow.workflows.contracts import ActivityName, Notice

RETRY_ERROR_TYPE = "NoticeNotDelivered"
"""The ``ApplicationError`` type of an attempt that Temporal should retry."""

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _record_delivered(connection: Connection, *, notices: list[Notice], at: datetime) -> None:
    for notice in notices:
        record_delivered_into(connection, notice, at)


class NoticeActivities:
    """Sends chases, escalations and extension decisions; the only writer of ``notices``."""

    def __init__(
        self,
        engine: Engine,
        notifier: Notifier,
        *,
        clock: Clock = _utc_now,
        writer: ProjectionWriter | None = None,
    ) -> None:
        """Deliver through ``notifier`` (and its window), recording in ``engine``.

        Args:
            engine: The read model.
            notifier: The channels and the delivery window.
            clock: The current time, aware (tests move it).
            writer: The worker's read-model writer, which records what
                :meth:`deliver_here` delivered; by default one of its own.
        """
        self._engine = engine
        self._writer = writer or ProjectionWriter(engine)
        self._notifier = notifier
        self._clock = clock

    @property
    def in_process(self) -> bool:
        """True when every channel delivers in this process (``Notifier.in_process``)."""
        return self._notifier.in_process

    async def deliver_here(self, batch: list[Notice]) -> list[Notice]:
        """Deliver ``batch`` at once and record it ``delivered``; return what is left.

        For a notifier whose channels are all in-process (``in_process``), from
        the hand-over: nothing to wait on, so no delivery workflow. The notices
        are delivered in turn until one is refused; those delivered are
        recorded in one write on the worker's read-model writer thread (a
        notice already stored, from a retried hand-over, is marked delivered
        unless final).

        Returns:
            The notices from the first that was refused on, or the whole batch
            if recording failed: the caller hands them to a delivery workflow,
            which records and retries them (a notice delivered here and handed
            on is delivered again: at-least-once, receivers de-duplicate by id).
        """
        delivered = 0
        for notice in batch:
            try:
                self._notifier.deliver(notice)
            except Exception as err:
                # The type only: a message may quote the notice.
                activity.logger.warning(
                    "notice %s not delivered in-process (%s); handing it to a delivery workflow",
                    notice.id,
                    type(err).__name__,
                )
                break
            delivered += 1
        if delivered:
            done, at = batch[:delivered], self._clock()
            try:
                await self._writer.run(partial(_record_delivered, notices=done, at=at))
            except Exception as err:
                activity.logger.warning(
                    "in-process notices of %s not recorded (%s); handing them to a delivery"
                    " workflow",
                    batch[0].case_id,
                    type(err).__name__,
                )
                return batch
        return batch[delivered:]

    @activity.defn(name=ActivityName.SEND_NOTICE.value)
    def send_notice(self, notice: Notice) -> None:
        """Record ``notice`` (idempotent), try to deliver it once, record the outcome.

        Returns normally when the notice is delivered, or given up for good
        (``failed``: a final answer, or the delivery window spent), or was
        already one of the two.

        Raises:
            ApplicationError: The attempt failed for a reason that may pass; the
                notice is ``retrying`` and Temporal should try again (after
                ``next_retry_delay`` when the receiver asked for a wait).
        """
        record_notice(self._engine, notice)
        state = delivery_of(self._engine, notice.id)
        # A retry of an attempt that got as far as marking (its completion lost,
        # say, to a worker restart) has nothing left to do: don't send it twice.
        if state is None or state.status.is_final:
            activity.logger.info("notice %s is already %s", notice.id, state and state.status)
            return
        now = self._clock()
        remaining = self._remaining_window(notice, now)
        if remaining <= timedelta(0) and state.attempts > 0:
            self._give_up(notice, state, now)
            return
        try:
            self._notifier.deliver(notice)
        except DeliveryError as err:
            self._failed_attempt(notice, err, now, remaining)
            return
        except Exception as err:
            # A channel's bug, not the receiver's answer: record that much (the
            # type only; its text might quote the notice) and let Temporal retry.
            mark_retrying(self._engine, notice.id, now, f"internal error: {type(err).__name__}")
            raise
        mark_delivered(self._engine, notice.id, now)

    def _remaining_window(self, notice: Notice, now: datetime) -> timedelta:
        """How much of the delivery window is left for ``notice`` at ``now``.

        The window starts when the notice was first scheduled: the earlier of
        the notice's own time (when its case queued it) and this activity's
        first scheduling. A batch of notices delivered one after another thus
        shares one window instead of getting one each in turn. Time is read
        on the server's clock where it is ahead (``current_attempt_scheduled_time``;
        the time-skipping test server jumps it forward), else on ours.
        """
        info = activity.info()
        started = min(notice.at, info.scheduled_time)
        elapsed = max(now, info.current_attempt_scheduled_time) - started
        return self._notifier.delivery_window - elapsed

    def _failed_attempt(
        self, notice: Notice, err: DeliveryError, now: datetime, remaining: timedelta
    ) -> None:
        if not err.retryable or remaining <= timedelta(0):
            # A final answer, or the one attempt a notice gets when it comes up
            # after its window (its case, or its batch, waited too long).
            reason = err.reason if not err.retryable else f"{err.reason}; {self._spent()}"
            mark_failed(self._engine, notice.id, now, reason)
            activity.logger.warning("notice %s failed: %s", notice.id, reason)
            return
        mark_retrying(self._engine, notice.id, now, err.reason)
        delay = None
        if err.retry_after is not None:
            # Past the window's end there is no point waiting: the next attempt
            # then only marks the notice failed.
            delay = min(err.retry_after, remaining + timedelta(seconds=1))
        activity.logger.info(
            "notice %s not delivered, will retry%s: %s",
            notice.id,
            f" in {delay}" if delay is not None else "",
            err.reason,
        )
        raise ApplicationError(
            f"notice {notice.id}: {err.reason}",
            type=RETRY_ERROR_TYPE,
            next_retry_delay=delay,
            # Expected while a receiver is down: logged above in one line, not as
            # a traceback per attempt, and not counted as an activity failure.
            category=ApplicationErrorCategory.BENIGN,
        ) from err

    def _give_up(self, notice: Notice, state: NoticeDelivery, now: datetime) -> None:
        reason = f"{state.last_error or 'not delivered'}; {self._spent()}"
        mark_failed(self._engine, notice.id, now, reason, attempted=False)
        activity.logger.warning(
            "notice %s failed after %d attempts: %s", notice.id, state.attempts, reason
        )

    def _spent(self) -> str:
        return f"gave up: the {_hours(self._notifier.delivery_window)} delivery window ran out"


def _hours(window: timedelta) -> str:
    seconds = window.total_seconds()
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    return f"{seconds:g} s"
