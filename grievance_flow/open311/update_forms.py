"""mySociety's ``POST servicerequestupdates``: a client's update, read into a supplement (追加诉求).

FixMyStreet posts, form-encoded: ``service_request_id``, its own ``update_id``,
``updated_datetime``, ``status``, ``description``, the citizen's name, phone
and e-mail, and ``media_url`` (repeated for several photos). We record it on
the open case as a ``supplemented`` event; the status the client gives is kept
as what it said, never applied (a verifier decides). The first five fields are
required, as FixMyStreet's own receiver requires them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from grievance_flow.open311.errors import bad_request
from grievance_flow.open311.forms import MAX_DESCRIPTION, MAX_FIELD, Form
from grievance_flow.open311.params import parse_w3c

CLIENT_STATUSES = frozenset(
    {
        "OPEN",
        "INVESTIGATING",
        "IN_PROGRESS",
        "ACTION_SCHEDULED",
        "FIXED",
        "NO_FURTHER_ACTION",
        "DUPLICATE",
        "NOT_COUNCILS_RESPONSIBILITY",
        "INTERNAL_REFERRAL",
        "FOR_TRIAGE",
        "CLOSED",
        "CANCELLED",
        "REOPEN",
    }
)
"""Every status FixMyStreet's ``Open311.pm`` may send with extended statuses on, or off."""

MAX_UPDATE_ID = 100
"""Characters a client's ``update_id`` may have."""

_REQUIRED = ("service_request_id", "update_id", "updated_datetime", "status", "description")


@dataclass(frozen=True)
class ClientUpdate:
    """A client's update of one of our requests."""

    case_id: str
    update_id: str
    updated_at: datetime
    status: str
    description: str
    media_urls: list[str]


def read_update(form: Form, zone: tzinfo) -> ClientUpdate:
    """Check ``form`` and return the update.

    Raises:
        Open311Error: 400 naming the first field that is missing or wrong.
    """
    plain: dict[str, str] = {}
    media: list[str] = []
    for name, value in form:
        limit = MAX_DESCRIPTION if name == "description" else MAX_FIELD
        if len(value) > limit:
            raise bad_request(f"{name} is longer than {limit} characters.")
        if name in ("media_url", "media_url[]") and value.strip():
            media.append(value.strip())
        else:
            plain[name] = value.strip()
    for name in _REQUIRED:
        if not plain.get(name):
            raise bad_request(f"{name} is required.")
    if len(plain["update_id"]) > MAX_UPDATE_ID:
        raise bad_request(f"update_id is longer than {MAX_UPDATE_ID} characters.")
    status = plain["status"].upper().replace(" ", "_")
    if status not in CLIENT_STATUSES:
        raise bad_request(f"status {plain['status']!r} is not an Open311 update status.")
    return ClientUpdate(
        case_id=plain["service_request_id"],
        update_id=plain["update_id"],
        updated_at=parse_w3c("updated_datetime", plain["updated_datetime"], zone),
        status=status,
        description=plain["description"],
        media_urls=media[:20],
    )
