"""The notifier: every notice through every configured channel."""

from __future__ import annotations

from collections.abc import Sequence

from grievance_flow.notify.channels import Channel, LogChannel
from grievance_flow.notify.webhook import WebhookChannel
from grievance_flow.settings import Settings
from grievance_flow.workflows.contracts import Notice


class Notifier:
    """Delivers each notice through its channels, in order."""

    def __init__(self, channels: Sequence[Channel]) -> None:
        self._channels = tuple(channels)

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels, in delivery order."""
        return self._channels

    def deliver(self, notice: Notice) -> None:
        """Hand ``notice`` to every channel; the first failure stops and propagates.

        Channels before the failing one will get the notice again on the retry
        (at-least-once); put the cheap, never-failing ones first.

        Raises:
            DeliveryError: A channel did not take the notice.
        """
        for channel in self._channels:
            channel.deliver(notice)


def build_notifier(settings: Settings) -> Notifier:
    """The log channel always, then the webhook when ``NOTICE_WEBHOOK_URL`` is set.

    Raises:
        ValueError: ``NOTICE_WEBHOOK_URL`` is not an http(s) URL.
    """
    channels: list[Channel] = [LogChannel()]
    if settings.notice_webhook_url:
        channels.append(
            WebhookChannel(settings.notice_webhook_url, timeout=settings.notice_webhook_timeout)
        )
    return Notifier(channels)
