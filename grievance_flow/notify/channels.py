"""The channel protocol, its failure, and the log channel."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from grievance_flow.workflows.contracts import Notice

log = logging.getLogger(__name__)


class DeliveryError(RuntimeError):
    """A channel could not deliver a notice, and whether trying again may help.

    The message is the reason as it may be stored and shown (``last_error``):
    a status or transport failure, never a URL's query or user info, never the
    notice's contents.

    Attributes:
        reason: The message.
        retryable: True for a failure that may pass (a timeout, a refused
            connection, 5xx, 408, 429); False when the receiver's answer is
            final (any other 4xx, a redirect).
        retry_after: How long the receiver asked us to wait (``Retry-After``
            on 429 or 503), if it said.
    """

    def __init__(
        self, reason: str, *, retryable: bool = True, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    """One way a notice leaves the system (a log line, a webhook, later SMS...)."""

    in_process: bool
    """True when delivering cannot wait on anything outside this process (a log
    line): a case's hand-over may then deliver at once instead of starting a
    delivery workflow (``activities/handover.py``). False for anything that
    talks to a receiver, which may be slow or down."""

    def deliver(self, notice: Notice) -> None:
        """Hand ``notice`` over, or raise if it was not taken.

        Called from activity threads, possibly for the same notice more than
        once (at-least-once), so implementations must be thread-safe and
        should let receivers recognise repeats by ``notice.id``.

        Raises:
            DeliveryError: The notice was not delivered; ``retryable=False``
                when trying again cannot help.
        """
        ...


class LogChannel:
    """Writes one log line per notice: always on, so every notice leaves a trace."""

    in_process = True

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or log

    def deliver(self, notice: Notice) -> None:
        """Log the notice at INFO: kind, recipient, case and message on one line."""
        recipient = notice.recipient_role.value
        if notice.recipient_unit is not None:
            recipient = f"{recipient}:{notice.recipient_unit}"
        self._log.info(
            "notice %s %s to %s on %s: %s",
            notice.id,
            notice.kind.value,
            recipient,
            notice.case_id,
            # One line, whatever the message says.
            " ".join(notice.message.split()),
        )
