"""``/v1/webhooks``: subscribers to case events (SPEC §10), for admin keys.

Creating a subscription stores it with a fresh ``whsec_`` secret (shown in
this one answer) and starts its delivery workflow, ``webhooks-<id>``, which
drains its outbox from then on. Deleting it stops deliveries; its delivery
list stays readable. A failed delivery can be retried by hand: it gets a fresh
24-hour window and goes out again in its case's ``seq`` order.
"""

from __future__ import annotations

import asyncio
import fnmatch
from datetime import UTC, datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import TemporalError

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CurrentActor, EngineDep, ResourcesDep
from grievance_flow.api.errors import Conflict, InvalidRequest, NotFound, from_temporal, responses
from grievance_flow.api.schemas import MAX_INT
from grievance_flow.store import webhooks as outbox
from grievance_flow.webhooks.messages import EVENT_PREFIX
from grievance_flow.webhooks.signing import new_secret
from grievance_flow.workflows.contracts import PUBLIC_EVENT_TYPES, Role, WebhookSubscriberInput
from grievance_flow.workflows.webhook_delivery import (
    WebhookSubscriberWorkflow,
    subscriber_workflow_id,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

ADMINS = frozenset({Role.ADMIN})
_PUBLIC = {event_type.value for event_type in PUBLIC_EVENT_TYPES}

WebhookId = Annotated[str, Path(max_length=64, pattern=r"^wh_[A-Za-z0-9_-]+$")]
DeliveryId = Annotated[str, Path(max_length=300, pattern=r"^.+:[0-9]{1,10}$")]


class SubscriptionCreate(BaseModel):
    """A new subscriber: where to POST, and which event types (all public ones when absent)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)
    events: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=len(_PUBLIC)
    )


class SubscriptionPublic(BaseModel):
    """A subscriber as listed (never its secret)."""

    id: str
    url: str
    events: list[str] | None
    created_at: datetime


class SubscriptionCreated(SubscriptionPublic):
    """The answer to a subscription: with its secret, shown this once."""

    secret: str


class SubscriptionList(BaseModel):
    """The live subscriptions."""

    items: list[SubscriptionPublic]


class DeliveryPublic(BaseModel):
    """One message to a subscriber and how sending it went."""

    id: str
    case_id: str
    seq: int
    type: str
    status: outbox.WebhookStatus
    attempts: int
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    """A page of deliveries, newest first."""

    items: list[DeliveryPublic]
    total: int


def _present(subscription: outbox.Subscription) -> SubscriptionPublic:
    return SubscriptionPublic(
        id=subscription.id,
        url=subscription.url,
        events=subscription.events,
        created_at=subscription.created_at,
    )


def _delivery(delivery: outbox.Delivery) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,
        case_id=delivery.case_id,
        seq=delivery.seq,
        type=EVENT_PREFIX + delivery.type,
        status=delivery.status,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        last_attempt_at=delivery.last_attempt_at,
        next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


def check_url(url: str, allowed_hosts: tuple[str, ...] | None) -> None:
    """An absolute http(s) URL, on an allowed host when the operator restricts them.

    Raises:
        InvalidRequest: It is not.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise InvalidRequest("url is not a URL.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidRequest("url must be an absolute http or https URL.")
    if allowed_hosts is not None and not any(
        fnmatch.fnmatchcase(parsed.host.lower(), pattern) for pattern in allowed_hosts
    ):
        raise InvalidRequest(f"url's host {parsed.host!r} is not in WEBHOOK_ALLOWED_HOSTS.")


def _event_types(asked: list[str] | None) -> list[str] | None:
    if asked is None:
        return None
    types = [name.removeprefix(EVENT_PREFIX) for name in asked]
    unknown = sorted(set(types) - _PUBLIC)
    if unknown:
        raise InvalidRequest(f"events names types that are not case events: {', '.join(unknown)}.")
    if not types:
        raise InvalidRequest("events, when given, names at least one event type.")
    return list(dict.fromkeys(types))


async def ensure_delivering(resources: ResourcesDep, subscription_id: str) -> None:
    """Start the subscriber's delivery workflow unless it runs already.

    Raises:
        ApiError: Temporal refused or was unreachable (503).
    """
    try:
        await resources.client.start_workflow(
            WebhookSubscriberWorkflow.run,
            WebhookSubscriberInput(subscription_id=subscription_id),
            id=subscriber_workflow_id(subscription_id),
            task_queue=resources.gateway.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except TemporalError as exc:
        raise from_temporal(exc) from exc


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionCreated,
    responses=responses(401, 403, 422, 503),
    summary="Subscribe to case events (signed, Standard Webhooks)",
)
async def subscribe(
    body: SubscriptionCreate, actor: CurrentActor, resources: ResourcesDep
) -> SubscriptionCreated:
    """Store the subscriber and start delivering to it; the secret is in this answer only."""
    require_role(actor, ADMINS, "manage webhooks")
    check_url(body.url, resources.webhook_allowed_hosts)
    events = _event_types(body.events)
    subscription = await asyncio.to_thread(
        lambda: outbox.create_subscription(
            resources.engine,
            url=body.url,
            events=events,
            secret=new_secret(),
            at=datetime.now(UTC),
        )
    )
    try:
        await ensure_delivering(resources, subscription.id)
    except Exception:
        # Nothing would deliver to it: take it back rather than leave it silent.
        await asyncio.to_thread(
            outbox.delete_subscription, resources.engine, subscription.id, at=datetime.now(UTC)
        )
        raise
    return SubscriptionCreated(**_present(subscription).model_dump(), secret=subscription.secret)


@router.get(
    "", response_model=SubscriptionList, responses=responses(401, 403, 503), summary="Subscribers"
)
async def subscribers(actor: CurrentActor, engine: EngineDep) -> SubscriptionList:
    """The live subscriptions, oldest first, without their secrets."""
    require_role(actor, ADMINS, "manage webhooks")
    found = await asyncio.to_thread(outbox.list_subscriptions, engine)
    return SubscriptionList(items=[_present(subscription) for subscription in found])


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(401, 403, 404, 422, 503),
    summary="Unsubscribe",
)
async def unsubscribe(webhook_id: WebhookId, actor: CurrentActor, engine: EngineDep) -> Response:
    """Stop delivering to the subscriber (its delivery workflow ends at its next look)."""
    require_role(actor, ADMINS, "manage webhooks")
    deleted = await asyncio.to_thread(
        outbox.delete_subscription, engine, webhook_id, at=datetime.now(UTC)
    )
    if not deleted:
        raise NotFound(f"No webhook subscription '{webhook_id}'.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _known(engine: EngineDep, webhook_id: str) -> outbox.Subscription:
    subscription = await asyncio.to_thread(outbox.get_subscription, engine, webhook_id)
    if subscription is None:
        raise NotFound(f"No webhook subscription '{webhook_id}'.")
    return subscription


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryList,
    responses=responses(401, 403, 404, 422, 503),
    summary="A subscriber's deliveries (?status=failed: the ones given up on)",
)
async def deliveries(
    webhook_id: WebhookId,
    actor: CurrentActor,
    engine: EngineDep,
    status: outbox.WebhookStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> DeliveryList:
    """Deliveries newest first, with attempts, the last error and the next attempt."""
    require_role(actor, ADMINS, "manage webhooks")
    await _known(engine, webhook_id)
    items, total = await asyncio.to_thread(
        lambda: outbox.list_deliveries(
            engine, webhook_id, status=status, limit=limit, offset=offset
        )
    )
    return DeliveryList(items=[_delivery(item) for item in items], total=total)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryPublic,
    responses=responses(401, 403, 404, 409, 422, 503),
    summary="Send a failed delivery again",
)
async def retry(
    webhook_id: WebhookId, delivery_id: DeliveryId, actor: CurrentActor, resources: ResourcesDep
) -> DeliveryPublic:
    """Put a ``failed`` delivery back in line with a fresh window (409 unless it failed)."""
    require_role(actor, ADMINS, "manage webhooks")
    subscription = await _known(resources.engine, webhook_id)
    if subscription.deleted_at is not None:
        raise Conflict(f"Webhook subscription '{webhook_id}' is deleted.")
    case_id, _, seq = delivery_id.rpartition(":")
    try:
        again = await asyncio.to_thread(
            lambda: outbox.retry_delivery(
                resources.engine, webhook_id, case_id, int(seq), at=datetime.now(UTC)
            )
        )
    except LookupError:
        raise NotFound(f"No delivery '{delivery_id}' to '{webhook_id}'.") from None
    if again is None:
        raise Conflict(f"Delivery '{delivery_id}' has not failed; only a failed one is retried.")
    await ensure_delivering(resources, webhook_id)
    return _delivery(again)
