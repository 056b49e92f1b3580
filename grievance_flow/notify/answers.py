"""What a receiver's HTTP answer means for a notice: delivered, try again (and when), or final.

The rules are those of SPEC §10 for webhooks: a 2xx is delivered; 5xx, 408
(request timeout) and 429 (too many requests) may pass, so they are retried;
any other answer (4xx, an unfollowed redirect) is the receiver's last word.
For 429 and 503 the receiver may say how long to wait (``Retry-After``, in
seconds or as an HTTP date), and we wait that long.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from grievance_flow.notify.channels import DeliveryError

RETRYABLE_4XX = frozenset({408, 429})
"""Client-error answers that still mean "not now" rather than "never"."""

RETRY_AFTER_STATUSES = frozenset({429, 503})
"""Answers whose ``Retry-After`` header we honour."""

LONGEST_RETRY_AFTER = timedelta(days=365)
"""A longer ``Retry-After`` is read as this (the caller caps it further)."""


def is_retryable(status: int) -> bool:
    """Return True if an answer with ``status`` (not 2xx) is worth trying again."""
    return status >= 500 or status in RETRYABLE_4XX


def classify_answer(
    status: int, *, retry_after: str | None, now: datetime, where: str
) -> DeliveryError | None:
    """Return None for a 2xx answer, else the :class:`DeliveryError` it amounts to.

    Args:
        status: The HTTP status the receiver answered.
        retry_after: Its ``Retry-After`` header, if any.
        now: The current time (aware), for a ``Retry-After`` given as a date.
        where: The receiver as it may be named in the reason (no secrets).
    """
    if 200 <= status < 300:
        return None
    delay = parse_retry_after(retry_after, now=now) if status in RETRY_AFTER_STATUSES else None
    return DeliveryError(
        f"webhook {where} answered {status}", retryable=is_retryable(status), retry_after=delay
    )


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """The wait a ``Retry-After`` header asks for, or None if absent, unreadable or past.

    Accepts delay-seconds (``"120"``) and an HTTP date
    (``"Wed, 21 Oct 2026 07:28:00 GMT"``), as RFC 9110 §10.2.3 allows.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        delay = timedelta(seconds=min(int(text), int(LONGEST_RETRY_AFTER.total_seconds())))
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 850 / asctime forms: GMT by definition
            when = when.replace(tzinfo=UTC)
        delay = min(when - now, LONGEST_RETRY_AFTER)
    return delay if delay > timedelta(0) else None
