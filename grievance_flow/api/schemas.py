"""Request and response bodies of the HTTP API (SPEC §4).

``XCreate`` / ``XBody`` are what clients send; ``XPublic`` what they get back.
Conversion from the workflow's payloads (with phone masking) lives in
:mod:`grievance_flow.api.presenters`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from grievance_flow.workflows.contracts import (
    CompletionResult,
    EventType,
    Outcome,
    Role,
    Satisfaction,
    Stage,
    Status,
)
from grievance_flow.workflows.lifecycle import MAX_EXTENSION_DAYS

_PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""No control characters but tab and line breaks: PostgreSQL stores no NUL in text or
JSONB, so such a note could never reach the read model; none belongs in a case anyway."""

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000, pattern=_PRINTABLE),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_PRINTABLE),
]
CaseIdPath = Annotated[
    str,
    Path(
        max_length=255,
        pattern=_PRINTABLE,
        description="The case id (`grievance-<external_id>`), also its Temporal workflow id.",
    ),
]
"""A case id in a path: no control characters (PostgreSQL cannot even search for a NUL)."""

SearchText = Annotated[str | None, Query(max_length=200, pattern=_PRINTABLE)]
"""A free-text filter of a list (unit, category): the same rule as stored text."""

ExternalId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"),
]
"""The hotline's own id; it becomes part of the case id and URL, so it is kept URL-safe."""

MAX_INT = 2_147_483_647
"""The bound of every integer parameter (offsets, seqs): a 32-bit integer both databases
and SQLite's driver take. Beyond it a request is malformed (422), never a database error."""

IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,128}$")]
"""An ``Idempotency-Key`` header (SPEC §4a): 1-128 printable ASCII characters."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReporterIn(_Body):
    """The citizen who called."""

    name: ShortText
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{4,19}$")]


class LocationIn(_Body):
    """Where; ``grid`` must name a D-tier unit of the catalogue."""

    address: Text
    grid: ShortText
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class GrievanceCreate(_Body):
    """A new grievance as the hotline files it."""

    external_id: ExternalId
    channel: ShortText
    reporter: ReporterIn
    description: Text
    location: LocationIn
    category_hint: ShortText | None = None
    urgent: bool = False
    attachments: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=20
    )


# --- action bodies ----------------------------------------------------------------


class DispatchBody(_Body):
    """``dispatch``: the unit defaults to the catalogue route for the case's grid."""

    category: ShortText
    unit: ShortText | None = None
    note: Text | None = None


class ReasonBody(_Body):
    """``reject``, ``return`` and ``withdraw``: a reason is required."""

    reason: Text


class NoteBody(_Body):
    """``accept``: an optional note."""

    note: Text | None = None


class RequiredNoteBody(_Body):
    """``progress`` and ``supervise``: a note is required."""

    note: Text


class SupplementBody(_Body):
    """``supplement``: what the reporter added when calling again, and any new attachments."""

    note: Text
    attachments: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=20
    )


class CompleteBody(_Body):
    """``complete``: the result, what was done, and optional evidence URLs."""

    result: CompletionResult
    note: Text
    evidence: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=20
    )


class RecheckBody(_Body):
    """``recheck``: does the result hold, and how satisfied is the citizen."""

    passed: bool
    satisfaction: Satisfaction
    note: Text | None = None


class ExtendBody(_Body):
    """``extend``: how many more working days, and why (before the handle deadline)."""

    working_days: int = Field(ge=1, le=MAX_EXTENSION_DAYS)
    reason: Text


class MergeBody(_Body):
    """``merge``: the open case this one duplicates (并单)."""

    into: ShortText


class ArbitrateBody(_Body):
    """``arbitrate``: the unit the case is forced onto after too many returns."""

    unit: ShortText
    note: Text | None = None


class WhistleBody(_Body):
    """``whistle``: the units summoned (departments or any unit) and why (吹哨)."""

    units: list[ShortText] = Field(min_length=1, max_length=20)
    reason: Text


class DecideExtensionBody(_Body):
    """``decide-extension``: approve or deny the pending request."""

    approve: bool
    note: Text | None = None


# --- responses --------------------------------------------------------------------


class ActorPublic(BaseModel):
    """Who did something: the role, the unit, and the key's holder and id (SPEC §7)."""

    role: Role
    unit: str | None = None
    holder: str | None = Field(
        default=None, description="Who holds the key the action came with; null for the system"
    )
    key_id: str | None = Field(default=None, description="The key's stable, non-secret id")


class ReporterPublic(BaseModel):
    """The reporter; ``phone`` and ``email`` are masked unless the reader's role may see them."""

    name: str
    phone: str
    email: str | None = None


class LocationPublic(BaseModel):
    """Where the grievance is."""

    address: str
    grid: str
    lat: float | None = None
    lon: float | None = None


class DeadlinePublic(BaseModel):
    """One stage's SLA clock."""

    sla_class: str
    started_at: datetime
    warn_at: datetime
    due_at: datetime
    escalate_at: datetime
    calendar_source: str | None = None
    """Which calendar(s) counted its working days, as recorded in history (None: older)."""


class SlaPublic(BaseModel):
    """The running clock of the current stage."""

    stage: Stage
    due_at: datetime
    state: Literal["on_track", "warning", "overdue"]


class CasePublic(BaseModel):
    """A grievance case (SPEC §4 Case fields)."""

    id: str
    external_id: str
    channel: str
    stage: Stage
    status: Status
    category: str | None
    suggested_category: str | None
    category_hint: str | None
    tier: str | None
    unit: str | None
    co_units: list[str]
    reporter: ReporterPublic
    description: str
    location: LocationPublic
    urgent: bool
    attachments: list[str]
    sla: SlaPublic | None
    deadlines: dict[str, DeadlinePublic]
    supervised: bool
    escalations: int
    returns: int
    reopens: int
    extension: ExtensionPublic | None
    accepted_on_time: bool | None
    completed_on_time: bool | None
    overdue_stages: list[str]
    arbitrated: bool
    reported_in: list[str]
    merged_into: str | None
    merged_cases: list[str]
    attributes: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Answers to the category's Open311 attributes (beside the grid), by code.",
    )
    related_cases: list[str] = Field(
        default_factory=list,
        description="The cases this one was opened because of: for a proactive case "
        "(未诉先办), the hotspot's cases.",
    )
    outcome: Outcome | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class ExtensionPublic(BaseModel):
    """A pending extension request."""

    unit: str
    working_days: int
    reason: str
    requested_at: datetime


class CaseList(BaseModel):
    """A page of cases and the total that match the filters."""

    items: list[CasePublic]
    total: int


class EventPublic(BaseModel):
    """One timeline entry."""

    seq: int
    type: EventType
    at: datetime
    actor: ActorPublic
    stage: Stage
    data: dict[str, Any]


class HealthPublic(BaseModel):
    """What ``/healthz`` checked."""

    status: Literal["ok", "unavailable"]
    temporal: str
    database: str
