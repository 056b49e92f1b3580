"""The webhook channel: POST each notice as JSON to a configured URL."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from grievance_flow.notify.answers import classify_answer
from grievance_flow.notify.channels import DeliveryError
from grievance_flow.store.serialization import to_jsonable
from grievance_flow.workflows.contracts import Notice

USER_AGENT = "grievance-flow-notifier"


def receiver_name(url: str) -> str:
    """A receiver as a reason may name it: origin and path, never a query or user info."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"


class WebhookChannel:
    """Posts ``{id, case_id, kind, recipient_role, recipient_unit, message, at, data}``.

    A 2xx answer counts as delivered. Anything else raises a
    :class:`DeliveryError` that says whether to try again
    (:mod:`grievance_flow.notify.answers`): no answer within ``timeout``
    seconds, a transport error, 5xx, 408 and 429 are retryable; any other
    answer is final. The notice id goes in the ``Idempotency-Key`` header,
    since a retried activity may post it again.
    """

    in_process = False

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        """Deliver to ``url``, waiting at most ``timeout`` seconds per attempt.

        Raises:
            ValueError: ``url`` is not an absolute http(s) URL.
        """
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"the notice webhook must be an http(s) URL, not {url!r}")
        self._url = url
        self._timeout = timeout
        # Errors name only the origin and path: the URL may carry a token in its
        # query or user info, and error messages end up in Temporal histories
        # and in the read model's ``last_error``.
        self._where = receiver_name(url)
        self._secrets = [
            part for part in (url, parsed.query.decode(), parsed.userinfo.decode()) if part
        ]

    def deliver(self, notice: Notice) -> None:
        """POST the notice; raise unless the receiver answers 2xx.

        Raises:
            DeliveryError: A transport error, a timeout or a non-2xx answer;
                ``retryable`` and ``retry_after`` say whether and when to try again.
        """
        # A client per delivery: notices are rare (chases, escalations), and it
        # spares the worker a shared connection pool to close on shutdown.
        try:
            response = httpx.post(
                self._url,
                json=to_jsonable(notice),
                headers={"Idempotency-Key": notice.id, "User-Agent": USER_AGENT},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(
                f"webhook {self._where} unreachable: {self._transport_reason(exc)}",
                retryable=True,
            ) from exc
        failure = classify_answer(
            response.status_code,
            retry_after=response.headers.get("Retry-After"),
            now=datetime.now(UTC),
            where=self._where,
        )
        if failure is not None:
            raise failure

    def _transport_reason(self, exc: httpx.HTTPError) -> str:
        """The exception's kind and text, with the URL and its secret parts cut out."""
        text = str(exc)
        for secret in self._secrets:
            text = text.replace(secret, self._where if secret == self._url else "…")
        name = type(exc).__name__
        return f"{name}: {text}" if text else name
