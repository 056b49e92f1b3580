"""The channel protocol, its failure, and the log channel."""

from __future__ import annotations

import logging
from typing import Protocol

from grievance_flow.workflows.contracts import Notice

log = logging.getLogger(__name__)


class DeliveryError(RuntimeError):
    """A channel could not deliver a notice; the caller should try again later."""


class Channel(Protocol):
    """One way a notice leaves the system (a log line, a webhook, later SMS...)."""

    def deliver(self, notice: Notice) -> None:
        """Hand ``notice`` over, or raise if it was not taken.

        Called from activity threads, possibly for the same notice more than
        once (at-least-once), so implementations must be thread-safe and
        should let receivers recognise repeats by ``notice.id``.

        Raises:
            DeliveryError: The notice was not delivered.
        """
        ...


class LogChannel:
    """Writes one log line per notice: always on, so every notice leaves a trace."""

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
