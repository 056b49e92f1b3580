"""Payloads that cross the Temporal boundary.

Everything here is a plain dataclass or a string enum so that the default
Temporal JSON converter can carry it, the API can build it, and an auditor can
read it in a raw history. Nothing here may import I/O libraries: this module is
loaded inside the workflow sandbox.
"""

# No ``from __future__ import annotations`` here: the payload converter reads
# these dataclasses' type hints on every (de)serialisation, and string
# annotations would have to be re-evaluated each time.
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

TASK_QUEUE = "grievances"
"""Default task queue the worker polls and the API starts cases on."""

WORKFLOW_ID_PREFIX = "grievance-"
"""A case id is this prefix plus the hotline's ``external_id`` (idempotent intake)."""

PROACTIVE_CHANNEL = "proactive"
"""The channel of a case the command centre opens itself from a hotspot (未诉先办)."""


def case_id_for(external_id: str) -> str:
    """Return the case id (= workflow id) for a hotline ``external_id``."""
    return f"{WORKFLOW_ID_PREFIX}{external_id}"


class ActivityName(StrEnum):
    """Names the workflow schedules activities by, so it never imports their I/O code."""

    SUGGEST = "suggest_category"
    DEADLINE = "compute_deadline"
    PROJECT = "project_case"
    ESCALATION_TARGET = "escalation_target"
    EXTEND_DEADLINE = "extend_deadline"
    SEND_NOTICE = "send_notice"
    HAND_OVER_NOTICES = "hand_over_notices"
    DRAIN_WEBHOOKS = "drain_webhooks"


class Stage(StrEnum):
    """Where a grievance is in its lifecycle (SPEC §2)."""

    REPORT = "report"
    CLASSIFY = "classify"
    ACCEPT = "accept"
    HANDLE = "handle"
    RECHECK = "recheck"
    CLOSED = "closed"


CLOCKED_STAGES: tuple[Stage, ...] = (Stage.CLASSIFY, Stage.ACCEPT, Stage.HANDLE, Stage.RECHECK)
"""Stages that run an SLA clock; each gets a deadline when it is entered."""


class Status(StrEnum):
    """Whether a case is still being worked."""

    OPEN = "open"
    CLOSED = "closed"


class Role(StrEnum):
    """Who is acting (SPEC §1). ``system`` is the workflow itself; no key carries it."""

    HOTLINE = "hotline"
    DISPATCHER = "dispatcher"
    UNIT = "unit"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SYSTEM = "system"


class Action(StrEnum):
    """Actor actions. The value is both the URL segment and the workflow Update name."""

    DISPATCH = "dispatch"
    REJECT = "reject"
    ACCEPT = "accept"
    RETURN = "return"
    PROGRESS = "progress"
    COMPLETE = "complete"
    RECHECK = "recheck"
    SUPERVISE = "supervise"
    WITHDRAW = "withdraw"
    EXTEND = "extend"
    DECIDE_EXTENSION = "decide-extension"
    MERGE = "merge"
    ARBITRATE = "arbitrate"
    WHISTLE = "whistle"
    REPORT_IN = "report-in"
    SUPPLEMENT = "supplement"


class EventType(StrEnum):
    """Timeline event types (SPEC §4)."""

    REPORTED = "reported"
    SUGGESTED = "suggested"
    DISPATCHED = "dispatched"
    REJECTED = "rejected"
    MERGED = "merged"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    ARBITRATED = "arbitrated"
    PROGRESS = "progress"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_DECIDED = "extension_decided"
    WHISTLED = "whistled"
    REPORTED_IN = "reported_in"
    COMPLETED = "completed"
    RECHECKED = "rechecked"
    REOPENED = "reopened"
    SLA_WARNING = "sla_warning"
    SLA_OVERDUE = "sla_overdue"
    CHASED = "chased"
    ESCALATED = "escalated"
    SUPERVISED = "supervised"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    SUMMONS_CLOSED = "summons_closed"
    """Summoned units' report-in clocks stopped without a report-in (the case escalated)."""
    SUPPLEMENTED = "supplemented"
    """The reporter called again about the open case (追加诉求); the hotline recorded it."""


INTERNAL_EVENT_TYPES: frozenset[EventType] = frozenset({EventType.SUMMONS_CLOSED})
"""Bookkeeping events that stay inside: not sent to webhooks nor listed by Open311."""

PUBLIC_EVENT_TYPES: tuple[EventType, ...] = tuple(
    event_type for event_type in EventType if event_type not in INTERNAL_EVENT_TYPES
)
"""SPEC §4's event types and ``supplemented``: what Open311 updates and webhooks carry."""


class CompletionResult(StrEnum):
    """How a unit says it finished the work (办理结果)."""

    RESOLVED = "resolved"
    EXPLAINED = "explained"
    UNRESOLVABLE = "unresolvable"


class Satisfaction(StrEnum):
    """The citizen's answer at the callback (回访满意度)."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"
    UNREACHABLE = "unreachable"


class Outcome(StrEnum):
    """How a closed case ended."""

    RESOLVED = "resolved"
    EXPLAINED = "explained"
    UNRESOLVABLE = "unresolvable"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"
    """Closed as a duplicate of another case (并单); ``merged_into`` names it."""
    UNRESOLVED = "unresolved"
    """Failed recheck once more than ``policy.max_reopens`` allows (closed under supervision)."""


@dataclass(frozen=True)
class Actor:
    """Who performed an action: a role, for the ``unit`` role the unit id, and the key.

    ``holder`` and ``key_id`` come from the API key the request carried (SPEC §7),
    never from its body; None for the system and in histories recorded before
    keys had holders.
    """

    role: Role
    unit: str | None = None
    holder: str | None = None
    """The key's holder: the person or desk it was issued to."""
    key_id: str | None = None
    """The key's stable, non-secret id (``k_…``)."""


SYSTEM = Actor(role=Role.SYSTEM)


@dataclass
class Reporter:
    """The citizen who raised the grievance. Phone and e-mail are masked by the API per role.

    Open311 filings may leave any of them empty: a citizen may report anonymously.
    """

    name: str
    phone: str
    email: str | None = None


@dataclass
class Location:
    """Where the grievance is; ``grid`` names a D-tier unit of the catalogue."""

    address: str
    grid: str
    lat: float | None = None
    lon: float | None = None


@dataclass
class FileGrievanceInput:
    """Workflow input: a grievance as the hotline filed it."""

    case_id: str
    external_id: str
    channel: str
    reporter: Reporter
    description: str
    location: Location
    filed_by: Actor
    category_hint: str | None = None
    urgent: bool = False
    attachments: list[str] = field(default_factory=list)
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    """Answers to the category's Open311 attributes beside the grid, by code."""
    related_cases: list[str] = field(default_factory=list)
    """Cases this one was opened because of: a proactive case's hotspot (未诉先办)."""


@dataclass
class Candidate:
    """One classifier guess: a category, its score in [0, 1], and where it routes."""

    category: str
    name: str
    score: float
    unit: str | None
    matched: list[str] = field(default_factory=list)
    auto_dispatch: bool = False
    """Whether the category may be dispatched without a dispatcher when confident."""
    tier: str | None = None
    """Tier of ``unit``."""


@dataclass
class SuggestInput:
    """Activity input: classify a grievance text against the catalogue."""

    description: str
    grid: str
    category_hint: str | None = None
    case_id: str = ""
    filed_at: datetime | None = None
    """When the case was filed: open cases from the 72 hours before are duplicate candidates."""


@dataclass
class CasePolicy:
    """The catalogue policy a case runs under, recorded once at intake."""

    max_returns: int = 2
    max_reopens: int = 2
    auto_dispatch_confidence: float = 0.6


@dataclass
class Suggestion:
    """Activity result: the classifier's best guesses, best first (may be empty)."""

    candidates: list[Candidate] = field(default_factory=list)
    policy: CasePolicy = field(default_factory=CasePolicy)
    possible_duplicates: list[str] = field(default_factory=list)
    """Open cases of the same suggested category in the same grid, filed within 72 hours."""


@dataclass
class StageDeadline:
    """An SLA clock for one stage, computed by an activity when the stage is entered.

    ``warn_at`` is when the stage turns yellow (``policy.warn_at`` of the allowed
    time), ``due_at`` red, and ``escalate_at`` when it is escalated if still undone.
    """

    stage: Stage
    sla_class: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    escalate_at: datetime
    clock: str | None = None
    """The clock's name when it is not the stage's own, e.g. ``report_in``."""
    calendar_source: str | None = None
    """Which calendar data decided the working days counted, e.g. ``chinese-calendar
    1.11.0`` or ``overrides, holidays 0.109``; None for calendar time only (and in
    histories recorded before it was kept)."""


@dataclass
class DeadlineInput:
    """Activity input: compute the clock for ``stage`` entered at ``started_at``.

    ``category`` is the dispatched category, or before dispatch the best
    suggestion (or None: the catalogue's default SLA class applies).
    """

    case_id: str
    stage: Stage
    started_at: datetime
    category: str | None = None
    urgent: bool = False
    clock: str | None = None
    """Which SLA-class entry to use when not the stage's own (``report_in``)."""


@dataclass
class ExtendDeadlineInput:
    """Activity input: move ``deadline`` on by ``working_days`` from its current due time."""

    case_id: str
    deadline: StageDeadline
    working_days: int


@dataclass
class EscalationInput:
    """Activity input: who is one tier above ``unit`` (提级)?"""

    case_id: str
    unit: str


@dataclass
class EscalationTarget:
    """Activity result: the parent unit, or none when ``unit`` is already at tier A."""

    unit: str | None = None
    tier: str | None = None


@dataclass
class ExtensionRequest:
    """A pending extension request (延期申请)."""

    unit: str
    working_days: int
    reason: str
    requested_at: datetime


class NoticeKind(StrEnum):
    """Why a notice was sent."""

    CHASE = "chase"
    """催办: a clock went overdue."""
    ESCALATION = "escalation"
    """提级/督办: a case was escalated to a unit or the command centre."""
    EXTENSION_DECISION = "extension_decision"
    """延期审批: the dispatcher decided an extension request."""
    SUMMONS = "summons"
    """吹哨: a unit is summoned to a case and must report in."""
    MERGED_CLOSED = "merged_closed"
    """并单办结: a case closed that had duplicates; their reporters are to be told."""
    SUPERVISION = "supervision"
    """督办: the command centre put the case under supervision; the unit holding it is told."""
    SUPPLEMENT = "supplement"
    """追加诉求: the reporter called again about the case; the unit holding it is told."""


@dataclass
class Notice:
    """A message to a unit or to the command centre; ``id`` makes delivery idempotent.

    ``recipient_role`` is ``unit`` (with ``recipient_unit``) or ``dispatcher``
    (the command centre).
    """

    id: str
    case_id: str
    kind: NoticeKind
    recipient_role: Role
    recipient_unit: str | None
    message: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Event:
    """One timeline entry. ``seq`` starts at 1 and is unique within a case."""

    seq: int
    type: EventType
    at: datetime
    actor: Actor
    stage: Stage
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseView:
    """The whole live case as the workflow knows it (unmasked; the API masks)."""

    id: str
    external_id: str
    channel: str
    stage: Stage
    status: Status
    reporter: Reporter
    description: str
    location: Location
    category_hint: str | None
    urgent: bool
    attachments: list[str]
    suggested_category: str | None
    category: str | None
    tier: str | None
    unit: str | None
    co_units: list[str]
    deadlines: dict[str, StageDeadline]
    supervised: bool
    escalations: int
    returns: int
    reopens: int
    outcome: Outcome | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    last_seq: int
    extension: ExtensionRequest | None = None
    accepted_on_time: bool | None = None
    """KPI: the last acceptance came before its accept deadline (按时签收)."""
    completed_on_time: bool | None = None
    """KPI: the last completion came before the (extended) handle deadline (按时办结)."""
    overdue_stages: list[str] = field(default_factory=list)
    """KPI: every clock that went overdue, in order (a stage may repeat)."""
    arbitrated: bool = False
    """The current assignment was arbitrated: the unit may not return it."""
    reported_in: list[str] = field(default_factory=list)
    """Summoned units (``co_units``) that have reported in."""
    merged_into: str | None = None
    """For a duplicate closed by merge: the case it was merged into."""
    merged_cases: list[str] = field(default_factory=list)
    """For a target: the duplicates merged into it."""
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    """Answers to the category's Open311 attributes, as filed (``FileGrievanceInput``)."""
    related_cases: list[str] = field(default_factory=list)
    """Cases this one was opened because of, as filed (``FileGrievanceInput``)."""


@dataclass
class ProjectInput:
    """Activity input: bring the read model up to ``case`` with the given new events."""

    case: CaseView
    events: list[Event]
    task_started_at: datetime | None = None
    """When the projecting workflow task started (``workflow.now()``): the rows' version.

    A task that is lost (its worker killed, an Update's speculative task
    dropped) leaves nothing in history; its re-run starts later, so its rows
    replace the lost run's. None in projections recorded before it.
    """


# --- action inputs: one dataclass per Update, each naming its actor -------------


@dataclass
class DispatchInput:
    """Dispatcher assigns a category and unit (the API fills the catalogue route)."""

    actor: Actor
    category: str
    unit: str
    tier: str
    note: str | None = None


@dataclass
class RejectInput:
    """Dispatcher rejects the grievance as invalid or outside the remit."""

    actor: Actor
    reason: str


@dataclass
class AcceptInput:
    """The assigned unit signs for the case (签收)."""

    actor: Actor
    note: str | None = None


@dataclass
class ReturnInput:
    """The assigned unit sends the case back to dispatch with a reason (退回)."""

    actor: Actor
    reason: str


@dataclass
class ProgressInput:
    """The assigned unit reports progress while handling."""

    actor: Actor
    note: str


@dataclass
class CompleteInput:
    """The assigned unit reports the work done (办结申请)."""

    actor: Actor
    result: CompletionResult
    note: str
    evidence: list[str] = field(default_factory=list)


@dataclass
class RecheckInput:
    """A verifier records whether the result holds and the citizen's satisfaction."""

    actor: Actor
    passed: bool
    satisfaction: Satisfaction
    note: str | None = None


@dataclass
class SuperviseInput:
    """The command centre flags the case for supervision (督办)."""

    actor: Actor
    note: str


@dataclass
class SupplementInput:
    """The hotline records the reporter's further call about the open case (追加诉求).

    ``source`` and ``reference`` say where it came from when not the hotline's
    own desk: ``open311`` and the client's ``update_id``, for example.
    ``reported_status`` is the status that client gave (FixMyStreet's citizen
    may say ``FIXED``); it is recorded, never applied: a verifier decides.
    """

    actor: Actor
    note: str
    attachments: list[str] = field(default_factory=list)
    source: str | None = None
    reference: str | None = None
    reported_status: str | None = None


@dataclass
class WithdrawInput:
    """The hotline withdraws the grievance (撤回), e.g. the citizen cancelled it."""

    actor: Actor
    reason: str


@dataclass
class ExtendInput:
    """The assigned unit asks for more working days to handle the case (延期申请)."""

    actor: Actor
    working_days: int
    reason: str


@dataclass
class DecideExtensionInput:
    """The command centre approves or denies the pending extension request."""

    actor: Actor
    approve: bool
    note: str | None = None


@dataclass
class MergeInput:
    """The dispatcher closes this case as a duplicate of ``into`` (并单)."""

    actor: Actor
    into: str


@dataclass
class ArbitrateInput:
    """After too many returns the dispatcher forces the case onto a unit (裁定派单)."""

    actor: Actor
    unit: str
    tier: str
    note: str | None = None


@dataclass
class WhistleInput:
    """The lead unit summons other units (吹哨); each must report in (报到)."""

    actor: Actor
    units: list[str]
    reason: str


@dataclass
class ReportInInput:
    """A summoned unit reports in (报到)."""

    actor: Actor
    note: str | None = None


@dataclass
class DuplicateMerged:
    """Signal to a target case: a duplicate was merged into it."""

    case_id: str
    external_id: str
    merged_at: datetime


@dataclass
class CaseSnapshot:
    """Query result: the live case and its whole timeline, oldest first."""

    case: CaseView
    events: list[Event]


TIMELINE_PAGE_MAX = 1000
"""The most events one ``timeline`` query answers: a page stays far below gRPC's 4 MB."""


@dataclass
class TimelineQuery:
    """Query input: events with ``seq`` above ``after_seq``, oldest first, at most ``limit``."""

    after_seq: int = 0
    limit: int = TIMELINE_PAGE_MAX


@dataclass
class TimelinePage:
    """Query result: one page of the timeline and the case's newest ``seq``.

    More pages follow while the last event's ``seq`` is below ``last_seq``.
    """

    events: list[Event]
    last_seq: int


@dataclass
class CaseResult:
    """Workflow result once the case is closed."""

    case_id: str
    outcome: Outcome
    closed_at: datetime


@dataclass
class NoticeBatch:
    """Workflow input of ``NoticeDelivery``: notices to deliver, in this order.

    A case hands its notices over in one batch (e.g. the notices for all its
    merged duplicates at close) to a child workflow it abandons, so no
    delivery keeps the case open.
    """

    notices: list[Notice]


@dataclass
class WebhookSubscriberInput:
    """Workflow input of ``WebhookSubscriber``, and its drain activity's: whose outbox."""

    subscription_id: str
    runs: int = 0
    """Drain runs done in earlier runs of the workflow (it continues as new)."""


@dataclass
class DrainResult:
    """What one drain run did: messages sent, and whether the subscription is gone."""

    ended: bool
    sent: int = 0
