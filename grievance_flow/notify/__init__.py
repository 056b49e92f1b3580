"""Notices out of the system: a notifier and the channels it delivers through.

A :class:`Notifier` hands each notice to every configured channel in order. The
log channel is always on; the webhook channel posts to ``NOTICE_WEBHOOK_URL``
when it is set. Channels raise a :class:`DeliveryError` on failure, saying
whether it may pass (``retryable``, and perhaps ``retry_after``) or is final
(:mod:`grievance_flow.notify.answers` reads a receiver's answer). The notice
activity retries the first kind through Temporal, for at most the notifier's
``delivery_window``, and records the second as failed. Delivery is
at-least-once: receivers de-duplicate by the notice id (also sent as the
``Idempotency-Key`` header).
"""

from grievance_flow.notify.channels import Channel, DeliveryError, LogChannel
from grievance_flow.notify.notifier import Notifier, build_notifier
from grievance_flow.notify.webhook import WebhookChannel

__all__ = [
    "Channel",
    "DeliveryError",
    "LogChannel",
    "Notifier",
    "WebhookChannel",
    "build_notifier",
]
