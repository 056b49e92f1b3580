"""The notice activity: store a notice, deliver it, mark it delivered.

Delivery is at-least-once. A channel that fails raises, the activity fails, and
Temporal retries it with backoff; recording again is a no-op (the notice id is
the key), but channels that took the notice before the failure get it again.
Receivers de-duplicate by the notice id.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from temporalio import activity

from grievance_flow.notify.notifier import Notifier
from grievance_flow.store.notices import is_delivered, mark_delivered, record_notice
from grievance_flow.workflows.contracts import ActivityName, Notice


class NoticeActivities:
    """Sends chases, escalations and extension decisions; the only writer of ``notices``."""

    def __init__(self, engine: Engine, notifier: Notifier) -> None:
        self._engine = engine
        self._notifier = notifier

    @activity.defn(name=ActivityName.SEND_NOTICE.value)
    def send_notice(self, notice: Notice) -> None:
        """Record ``notice`` (idempotent), deliver it through every channel, mark it delivered.

        Raises:
            DeliveryError: A channel did not take it; Temporal retries the activity.
        """
        stored_now = record_notice(self._engine, notice)
        # A retry of an attempt that got as far as marking (its completion lost,
        # say, to a worker restart) has nothing left to do: don't send it twice.
        if not stored_now and is_delivered(self._engine, notice.id):
            activity.logger.info("notice %s was already delivered", notice.id)
            return
        self._notifier.deliver(notice)
        mark_delivered(self._engine, notice.id, datetime.now(UTC))
