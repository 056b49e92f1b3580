"""Notices out of the system: a notifier and the channels it delivers through.

A :class:`Notifier` hands each notice to every configured channel in order. The
log channel is always on; the webhook channel posts to ``NOTICE_WEBHOOK_URL``
when it is set. Channels raise on failure so that the calling activity fails
and Temporal retries it: delivery is at-least-once, and receivers de-duplicate
by the notice id (also sent as the ``Idempotency-Key`` header).
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
