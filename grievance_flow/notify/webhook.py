"""The webhook channel: POST each notice as JSON to a configured URL."""

from __future__ import annotations

import httpx

from grievance_flow.notify.channels import DeliveryError
from grievance_flow.store.serialization import to_jsonable
from grievance_flow.workflows.contracts import Notice

USER_AGENT = "grievance-flow-notifier"


class WebhookChannel:
    """Posts ``{id, case_id, kind, recipient_role, recipient_unit, message, at, data}``.

    Any 2xx answer counts as delivered; anything else, or no answer within
    ``timeout`` seconds, raises :class:`DeliveryError`. The notice id goes in the
    ``Idempotency-Key`` header, since a retried activity may post it again.
    """

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
        # query or user info, and error messages end up in Temporal histories.
        port = f":{parsed.port}" if parsed.port is not None else ""
        self._where = f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"

    def deliver(self, notice: Notice) -> None:
        """POST the notice; raise unless the receiver answers 2xx.

        Raises:
            DeliveryError: A transport error, a timeout or a non-2xx answer.
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
                f"notice {notice.id}: webhook {self._where} unreachable: {exc}"
            ) from exc
        if not response.is_success:
            raise DeliveryError(
                f"notice {notice.id}: webhook {self._where} answered {response.status_code}"
            )
