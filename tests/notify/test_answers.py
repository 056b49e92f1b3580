"""What a receiver's answer means: delivered, retried (and when), or final."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grievance_flow.notify.answers import classify_answer, parse_retry_after

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
WHERE = "http://hooks.example.org/12345"


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert classify_answer(status, retry_after=None, now=NOW, where=WHERE) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 408, 429])
def test_5xx_408_and_429_are_retried(status: int) -> None:
    error = classify_answer(status, retry_after=None, now=NOW, where=WHERE)
    assert error is not None
    assert error.retryable is True
    assert error.retry_after is None
    assert error.reason == f"webhook {WHERE} answered {status}"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 410, 413, 422, 451, 301, 302])
def test_any_other_answer_is_final(status: int) -> None:
    error = classify_answer(status, retry_after="30", now=NOW, where=WHERE)
    assert error is not None
    assert error.retryable is False
    assert error.retry_after is None


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_on_429_and_503(status: int) -> None:
    error = classify_answer(status, retry_after="120", now=NOW, where=WHERE)
    assert error is not None and error.retryable
    assert error.retry_after == timedelta(seconds=120)


def test_retry_after_is_ignored_on_other_answers() -> None:
    error = classify_answer(500, retry_after="120", now=NOW, where=WHERE)
    assert error is not None and error.retry_after is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("0", None),
        ("7", timedelta(seconds=7)),
        (" 86400 ", timedelta(days=1)),
        ("99999999999999999999", timedelta(days=365)),
        ("Tue, 01 Dec 2026 08:01:30 GMT", timedelta(seconds=90)),  # IMF-fixdate
        ("Tuesday, 01-Dec-26 08:02:00 GMT", timedelta(minutes=2)),  # RFC 850
        ("Tue Dec  1 08:00:05 2026", timedelta(seconds=5)),  # asctime
        ("Tue, 01 Dec 2026 07:00:00 GMT", None),  # already past
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected
