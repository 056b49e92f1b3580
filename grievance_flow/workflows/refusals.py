"""How a validator refuses: an ``ApplicationError`` whose type the API maps to a status."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from grievance_flow.workflows.lifecycle import Refusal, RefusalKind


def refuse(kind: RefusalKind, reason: str) -> ApplicationError:
    """The error a validator raises; it never reaches history."""
    return ApplicationError(reason, type=kind.value, non_retryable=True)


def raise_refusal(refusal: Refusal | None) -> None:
    """Raise ``refusal`` if there is one."""
    if refusal is not None:
        raise refuse(refusal.kind, refusal.reason)


def require_text(value: str | None, field: str) -> None:
    """Refuse (422) a blank required text field."""
    if value is None or not value.strip():
        raise refuse(RefusalKind.INVALID, f"'{field}' must not be blank.")
