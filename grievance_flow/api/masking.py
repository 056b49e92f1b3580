"""Who sees the reporter's phone number (SPEC §1)."""

from __future__ import annotations

from grievance_flow.workflows.contracts import Role

PHONE_READERS = frozenset({Role.DISPATCHER, Role.VERIFIER, Role.AUDITOR, Role.ADMIN})
"""Roles that call citizens back or audit the calls; everyone else sees it masked."""


def mask_phone(phone: str) -> str:
    """Mask the middle of a phone number: ``13812345678`` → ``138****5678``."""
    if len(phone) >= 8:
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 2:
        return "*" * (len(phone) - 2) + phone[-2:]
    return "*" * len(phone)


def mask_email(email: str) -> str:
    """Keep the first letter and the domain: ``wang.li@example.cn`` → ``w***@example.cn``."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


def email_for(role: Role, email: str | None) -> str | None:
    """The e-mail address as ``role`` may see it (like the phone)."""
    if email is None or role in PHONE_READERS:
        return email
    return mask_email(email)


def phone_for(role: Role, phone: str) -> str:
    """The phone number as ``role`` may see it."""
    return phone if role in PHONE_READERS else mask_phone(phone)
