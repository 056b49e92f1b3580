"""Channels: the log line, and the webhook against a real local HTTP server."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest
from pydantic import ValidationError

from grievance_flow.notify import (
    DeliveryError,
    LogChannel,
    Notifier,
    WebhookChannel,
    build_notifier,
)
from grievance_flow.settings import Settings
from grievance_flow.workflows.contracts import Notice, NoticeKind
from tests.receiver import WebhookReceiver
from tests.store.factories import make_notice

NOTICE = make_notice(
    "grievance-T-1/escalation/accept/1",
    case_id="grievance-T-1",
    kind=NoticeKind.ESCALATION,
    unit="comm-1",
    message="案件签收超期，已提级至湖滨社区\n请即签收",
    data={"from_unit": "grid-1", "tier": "C"},
)


def test_webhook_posts_the_notice_as_json() -> None:
    with WebhookReceiver() as receiver:
        WebhookChannel(receiver.url, timeout=5).deliver(NOTICE)

    [delivery] = receiver.deliveries
    assert delivery.path == "/hooks/notices"
    assert delivery.body == {
        "id": "grievance-T-1/escalation/accept/1",
        "case_id": "grievance-T-1",
        "kind": "escalation",
        "recipient_role": "unit",
        "recipient_unit": "comm-1",
        "message": "案件签收超期，已提级至湖滨社区\n请即签收",
        "at": "2026-03-02T01:00:00+00:00",
        "data": {"from_unit": "grid-1", "tier": "C"},
    }
    assert delivery.headers["Content-Type"] == "application/json"
    # Receivers de-duplicate repeats (at-least-once) by this key.
    assert delivery.headers["Idempotency-Key"] == NOTICE.id


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (302, False)]
)
def test_a_non_2xx_answer_raises_saying_whether_to_retry(status: int, retryable: bool) -> None:
    with (
        WebhookReceiver([status]) as receiver,
        pytest.raises(DeliveryError, match=f"answered {status}") as error,
    ):
        WebhookChannel(receiver.url, timeout=5).deliver(NOTICE)
    assert len(receiver.deliveries) == 1
    assert error.value.retryable is retryable
    assert error.value.reason == f"webhook {receiver.url} answered {status}"


def test_retry_after_comes_back_with_the_error() -> None:
    with (
        WebhookReceiver([(429, {"Retry-After": "42"})]) as receiver,
        pytest.raises(DeliveryError) as error,
    ):
        WebhookChannel(receiver.url, timeout=5).deliver(NOTICE)
    assert error.value.retryable
    assert error.value.retry_after == timedelta(seconds=42)


def test_an_unreachable_receiver_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there any more.
    with pytest.raises(DeliveryError, match="unreachable: ConnectError") as error:
        WebhookChannel(f"http://127.0.0.1:{port}/hooks", timeout=5).deliver(NOTICE)
    assert error.value.retryable


def test_a_slow_receiver_times_out() -> None:
    with (
        WebhookReceiver(delay=1.0) as receiver,
        pytest.raises(DeliveryError, match="unreachable: ReadTimeout") as error,
    ):
        WebhookChannel(receiver.url, timeout=0.2).deliver(NOTICE)
    assert error.value.retryable


def test_errors_do_not_reveal_secrets_in_the_url() -> None:
    with WebhookReceiver([500]) as receiver:
        secret_url = receiver.url.replace("http://", "http://hook:pa55@") + "?token=s3cret"
        with pytest.raises(DeliveryError) as error:
            WebhookChannel(secret_url, timeout=5).deliver(NOTICE)
    assert "s3cret" not in str(error.value) and "pa55" not in str(error.value)
    assert "/hooks/notices" in str(error.value)


def test_transport_errors_do_not_reveal_secrets_in_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryError) as error:
        WebhookChannel(f"http://hook:pa55@127.0.0.1:{port}/h?token=s3cret", timeout=5).deliver(
            NOTICE
        )
    assert "s3cret" not in error.value.reason and "pa55" not in error.value.reason
    assert error.value.reason.startswith(f"webhook http://127.0.0.1:{port}/h unreachable")


@pytest.mark.parametrize("url", ["ftp://example.org/hooks", "hooks.example.org/notices", ""])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookChannel(url)


def test_the_log_channel_writes_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="grievance_flow.notify"):
        LogChannel().deliver(NOTICE)
    [record] = caplog.records
    line = record.getMessage()
    assert "\n" not in line
    assert line == (
        "notice grievance-T-1/escalation/accept/1 escalation to unit:comm-1 on grievance-T-1: "
        "案件签收超期，已提级至湖滨社区 请即签收"
    )


class Recorder:
    """A channel that records, or fails when told to."""

    in_process = False

    def __init__(self, name: str, calls: list[str], *, fail: bool = False) -> None:
        self.name, self.calls, self.fail = name, calls, fail

    def deliver(self, notice: Notice) -> None:
        self.calls.append(f"{self.name}:{notice.id}")
        if self.fail:
            raise DeliveryError(f"{self.name} is down")


def test_the_notifier_uses_every_channel_in_order_and_stops_at_a_failure() -> None:
    calls: list[str] = []
    Notifier([Recorder("a", calls), Recorder("b", calls)]).deliver(NOTICE)
    assert calls == [f"a:{NOTICE.id}", f"b:{NOTICE.id}"]

    calls.clear()
    failing = Notifier(
        [Recorder("a", calls), Recorder("b", calls, fail=True), Recorder("c", calls)]
    )
    with pytest.raises(DeliveryError, match="b is down"):
        failing.deliver(NOTICE)
    assert calls == [f"a:{NOTICE.id}", f"b:{NOTICE.id}"]


def test_the_webhook_is_on_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTICE_WEBHOOK_URL", raising=False)
    [only] = build_notifier(Settings()).channels
    assert isinstance(only, LogChannel)

    monkeypatch.setenv("NOTICE_WEBHOOK_URL", "https://hooks.example.org/12345")
    log, webhook = build_notifier(Settings()).channels
    assert isinstance(log, LogChannel) and isinstance(webhook, WebhookChannel)


@pytest.mark.parametrize(
    ("value", "window"),
    [(None, timedelta(hours=24)), ("600", timedelta(minutes=10)), ("PT6H", timedelta(hours=6))],
)
def test_the_delivery_window_is_configured(
    monkeypatch: pytest.MonkeyPatch, value: str | None, window: timedelta
) -> None:
    if value is None:
        monkeypatch.delenv("NOTICE_DELIVERY_WINDOW", raising=False)
    else:
        monkeypatch.setenv("NOTICE_DELIVERY_WINDOW", value)
    assert build_notifier(Settings()).delivery_window == window


@pytest.mark.parametrize("value", ["0", "-1", "90000", "P2D", "a day"])
def test_a_delivery_window_outside_24_hours_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NOTICE_DELIVERY_WINDOW", value)
    with pytest.raises(ValidationError, match="NOTICE_DELIVERY_WINDOW"):
        Settings()
