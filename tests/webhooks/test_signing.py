"""Our Standard Webhooks signatures, checked by the ``standardwebhooks`` library."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from grievance_flow.webhooks.signing import headers, new_secret, signature


def test_the_library_verifies_what_we_sign() -> None:
    secret = new_secret()
    body = '{"id":"grievance-1:1","data":{"note":"已到现场"}}'.encode()
    sent = headers(secret, "grievance-1:1", int(time.time()), body)
    assert Webhook(secret).verify(body, sent)["data"] == {"note": "已到现场"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("现场".encode(), "附近".encode()), sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, sent)


def test_the_schemes_own_example() -> None:
    # standardwebhooks.com's published example: secret, id, timestamp, body and signature.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_a_secret_must_be_a_whsec_secret() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        signature("plain", "m", 1, b"{}")
    assert new_secret() != new_secret()
