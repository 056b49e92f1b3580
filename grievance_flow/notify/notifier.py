"""The notifier: every notice through every configured channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from grievance_flow.notify.channels import Channel, LogChannel
from grievance_flow.notify.webhook import WebhookChannel
from grievance_flow.settings import Settings
from grievance_flow.workflows.contracts import Notice

DELIVERY_WINDOW = timedelta(hours=24)
"""How long a notice is retried by default before it is marked ``failed`` (SPEC §10)."""


class Notifier:
    """Delivers each notice through its channels, in order, for at most ``delivery_window``."""

    def __init__(
        self, channels: Sequence[Channel], *, delivery_window: timedelta = DELIVERY_WINDOW
    ) -> None:
        """Deliver through ``channels``; give up on a notice ``delivery_window`` after it was due.

        Raises:
            ValueError: ``delivery_window`` is not positive.
        """
        if delivery_window <= timedelta(0):
            raise ValueError(f"the delivery window must be positive, not {delivery_window}")
        self._channels = tuple(channels)
        self._delivery_window = delivery_window

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels, in delivery order."""
        return self._channels

    @property
    def delivery_window(self) -> timedelta:
        """How long after it was due a notice is still retried (``NOTICE_DELIVERY_WINDOW``)."""
        return self._delivery_window

    @property
    def in_process(self) -> bool:
        """True when every channel delivers without waiting on a receiver (see ``Channel``)."""
        return all(channel.in_process for channel in self._channels)

    def deliver(self, notice: Notice) -> None:
        """Hand ``notice`` to every channel; the first failure stops and propagates.

        Channels before the failing one will get the notice again on the retry
        (at-least-once); put the cheap, never-failing ones first.

        Raises:
            DeliveryError: A channel did not take the notice; its ``retryable``
                says whether another attempt may succeed.
        """
        for channel in self._channels:
            channel.deliver(notice)


def build_notifier(settings: Settings) -> Notifier:
    """The log channel always, then the webhook when ``NOTICE_WEBHOOK_URL`` is set.

    Notices are retried for ``NOTICE_DELIVERY_WINDOW``.

    Raises:
        ValueError: ``NOTICE_WEBHOOK_URL`` is not an http(s) URL.
    """
    channels: list[Channel] = [LogChannel()]
    if settings.notice_webhook_url:
        channels.append(
            WebhookChannel(settings.notice_webhook_url, timeout=settings.notice_webhook_timeout)
        )
    return Notifier(channels, delivery_window=settings.notice_delivery_window)
