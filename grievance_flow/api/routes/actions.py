"""``POST /v1/grievances/{id}/{action}``: one documented route per actor action.

The routes are generated from :data:`ACTIONS`, which pairs each action of the
transition table with its request body and the Update input it becomes. The
role is checked here from the same table (a cheap early 403); stage and unit are
checked by the workflow's Update validator, so a refused action never reaches
the history.

An action sent with an ``Idempotency-Key`` (SPEC §4a) is sent to Temporal with
the key as its update id, so a retried update is applied once by Temporal
itself, and its first answer is kept in the read model
(:mod:`grievance_flow.store.idempotency`): Temporal forgets a refused update,
and a closed case answers no update at all, yet a retry must be answered as
the first request was.

Every action that reaches its route (authenticated, body valid) is counted in
``grievance_actions_total{action,result}`` by the status it is answered with,
and the request's log lines carry its case id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from temporalio.exceptions import TemporalError

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CatalogueDep, CurrentActor, EngineDep, GatewayDep
from grievance_flow.api.errors import (
    ApiError,
    Conflict,
    ErrorBody,
    InvalidRequest,
    NotFound,
    from_temporal,
    responses,
)
from grievance_flow.api.gateway import CaseGateway
from grievance_flow.api.metrics import MetricsDep
from grievance_flow.api.presenters import present_case
from grievance_flow.api.schemas import (
    ArbitrateBody,
    CaseIdPath,
    CasePublic,
    CompleteBody,
    DecideExtensionBody,
    DispatchBody,
    ExtendBody,
    IdempotencyKey,
    MergeBody,
    NoteBody,
    ReasonBody,
    RecheckBody,
    RequiredNoteBody,
    SupplementBody,
    WhistleBody,
)
from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.catalogue.model import Catalogue
from grievance_flow.logs import case_context
from grievance_flow.store import idempotency
from grievance_flow.store.idempotency import RememberedAnswer
from grievance_flow.store.serialization import case_from_dict, case_to_dict
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    Actor,
    ArbitrateInput,
    CompleteInput,
    DecideExtensionInput,
    DispatchInput,
    ExtendInput,
    MergeInput,
    ProgressInput,
    RecheckInput,
    RejectInput,
    ReportInInput,
    ReturnInput,
    Status,
    SuperviseInput,
    SupplementInput,
    WhistleInput,
    WithdrawInput,
)
from grievance_flow.workflows.lifecycle import TRANSITIONS

router = APIRouter(prefix="/v1/grievances", tags=["actions"])

_log = logging.getLogger(__name__)

IdempotencyKeyHeader = Annotated[
    IdempotencyKey | None,
    Header(
        alias="Idempotency-Key",
        description="1-128 printable ASCII characters. The same key on the same case "
        "answers as the first request did and records nothing new; the same key with "
        "another action or body is refused (422).",
    ),
]

_REMEMBERED = frozenset({403, 409, 422})
"""Refusals decided by the case or the request, so a retry is answered the same.
Not 404 (no case bounds the key's life) and never 503: the client should retry those."""


@dataclass(frozen=True)
class ActionContext:
    """What a body needs to become an Update input."""

    case_id: str
    actor: Actor
    catalogue: Catalogue
    gateway: CaseGateway


Builder = Callable[[ActionContext, Any], Awaitable[object]]


async def _dispatch(ctx: ActionContext, body: DispatchBody) -> DispatchInput:
    catalogue = ctx.catalogue
    if body.category not in catalogue.categories:
        raise InvalidRequest(f"category '{body.category}' is not in the catalogue.")
    if body.unit is not None:
        unit = catalogue.units.get(body.unit)
        if unit is None:
            raise InvalidRequest(f"unit '{body.unit}' is not in the catalogue.")
    else:
        case = await ctx.gateway.case(ctx.case_id)
        try:
            unit = catalogue.route(body.category, case.location.grid)
        except CatalogueError as exc:
            raise InvalidRequest(f"No route for '{body.category}': {exc}; name a unit.") from exc
    return DispatchInput(
        actor=ctx.actor, category=body.category, unit=unit.id, tier=unit.tier.value, note=body.note
    )


async def _reject(ctx: ActionContext, body: ReasonBody) -> RejectInput:
    return RejectInput(actor=ctx.actor, reason=body.reason)


async def _accept(ctx: ActionContext, body: NoteBody) -> AcceptInput:
    return AcceptInput(actor=ctx.actor, note=body.note)


async def _return(ctx: ActionContext, body: ReasonBody) -> ReturnInput:
    return ReturnInput(actor=ctx.actor, reason=body.reason)


async def _progress(ctx: ActionContext, body: RequiredNoteBody) -> ProgressInput:
    return ProgressInput(actor=ctx.actor, note=body.note)


async def _complete(ctx: ActionContext, body: CompleteBody) -> CompleteInput:
    return CompleteInput(
        actor=ctx.actor, result=body.result, note=body.note, evidence=list(body.evidence)
    )


async def _recheck(ctx: ActionContext, body: RecheckBody) -> RecheckInput:
    return RecheckInput(
        actor=ctx.actor, passed=body.passed, satisfaction=body.satisfaction, note=body.note
    )


async def _extend(ctx: ActionContext, body: ExtendBody) -> ExtendInput:
    return ExtendInput(actor=ctx.actor, working_days=body.working_days, reason=body.reason)


async def _decide_extension(ctx: ActionContext, body: DecideExtensionBody) -> DecideExtensionInput:
    return DecideExtensionInput(actor=ctx.actor, approve=body.approve, note=body.note)


async def _merge(ctx: ActionContext, body: MergeBody) -> MergeInput:
    if body.into == ctx.case_id:
        raise InvalidRequest("A case cannot be merged into itself.")
    try:
        target = await ctx.gateway.case(body.into)
    except NotFound as exc:
        raise InvalidRequest(f"into: there is no case '{body.into}' to merge into.") from exc
    if target.status is Status.CLOSED:
        raise Conflict(f"Case '{body.into}' is closed; merge only into an open case.")
    return MergeInput(actor=ctx.actor, into=body.into)


async def _arbitrate(ctx: ActionContext, body: ArbitrateBody) -> ArbitrateInput:
    unit = ctx.catalogue.units.get(body.unit)
    if unit is None:
        raise InvalidRequest(f"unit '{body.unit}' is not in the catalogue.")
    return ArbitrateInput(actor=ctx.actor, unit=unit.id, tier=unit.tier.value, note=body.note)


async def _whistle(ctx: ActionContext, body: WhistleBody) -> WhistleInput:
    unknown = [unit for unit in body.units if unit not in ctx.catalogue.units]
    if unknown:
        raise InvalidRequest(f"units not in the catalogue: {', '.join(unknown)}.")
    return WhistleInput(actor=ctx.actor, units=list(body.units), reason=body.reason)


async def _report_in(ctx: ActionContext, body: NoteBody) -> ReportInInput:
    return ReportInInput(actor=ctx.actor, note=body.note)


async def _supervise(ctx: ActionContext, body: RequiredNoteBody) -> SuperviseInput:
    return SuperviseInput(actor=ctx.actor, note=body.note)


async def _supplement(ctx: ActionContext, body: SupplementBody) -> SupplementInput:
    return SupplementInput(actor=ctx.actor, note=body.note, attachments=list(body.attachments))


async def _withdraw(ctx: ActionContext, body: ReasonBody) -> WithdrawInput:
    return WithdrawInput(actor=ctx.actor, reason=body.reason)


ACTIONS: dict[Action, tuple[type[BaseModel], Builder]] = {
    Action.DISPATCH: (DispatchBody, _dispatch),
    Action.REJECT: (ReasonBody, _reject),
    Action.ACCEPT: (NoteBody, _accept),
    Action.RETURN: (ReasonBody, _return),
    Action.PROGRESS: (RequiredNoteBody, _progress),
    Action.COMPLETE: (CompleteBody, _complete),
    Action.RECHECK: (RecheckBody, _recheck),
    Action.EXTEND: (ExtendBody, _extend),
    Action.DECIDE_EXTENSION: (DecideExtensionBody, _decide_extension),
    Action.MERGE: (MergeBody, _merge),
    Action.ARBITRATE: (ArbitrateBody, _arbitrate),
    Action.WHISTLE: (WhistleBody, _whistle),
    Action.REPORT_IN: (NoteBody, _report_in),
    Action.SUPERVISE: (RequiredNoteBody, _supervise),
    Action.SUPPLEMENT: (SupplementBody, _supplement),
    Action.WITHDRAW: (ReasonBody, _withdraw),
}


def _requester(actor: Actor) -> str:
    return f"{actor.role.value}:{actor.unit}" if actor.unit else actor.role.value


async def _first_answer(
    ctx: ActionContext, action: Action, body: BaseModel, build: Builder, key: str, signed: str
) -> RememberedAnswer:
    """Perform the action once, as its update ``key``; a refusal is an answer too."""

    def answer(status_code: int, payload: dict[str, Any]) -> RememberedAnswer:
        return RememberedAnswer(
            action=action.value, fingerprint=signed, status_code=status_code, body=payload
        )

    try:
        command = await build(ctx, body)
        case = await ctx.gateway.act(ctx.case_id, action, command, update_id=key)
    except TemporalError as exc:
        refusal = from_temporal(exc)
        if refusal.status_code not in _REMEMBERED:
            raise refusal from exc
        return answer(refusal.status_code, _error_body(refusal))
    except ApiError as refusal:
        if refusal.status_code not in _REMEMBERED:
            raise
        return answer(refusal.status_code, _error_body(refusal))
    return answer(200, case_to_dict(case))


def _error_body(error: ApiError) -> dict[str, Any]:
    return ErrorBody(error=error.error_name, detail=error.detail).model_dump()


async def _perform_once(
    ctx: ActionContext, action: Action, body: BaseModel, build: Builder, key: str, engine: Engine
) -> CasePublic | Response:
    """Answer ``key`` as it was first answered on this case, performing it only once."""
    signed = idempotency.fingerprint(
        action.value, body.model_dump(mode="json"), requester=_requester(ctx.actor)
    )
    stored = await asyncio.to_thread(idempotency.recall, engine, ctx.case_id, key)
    if stored is None:
        first = await _first_answer(ctx, action, body, build, key, signed)
        try:
            stored = await asyncio.to_thread(
                idempotency.remember, engine, ctx.case_id, key, first, at=datetime.now(UTC)
            )
        except SQLAlchemyError as exc:
            # The action is done (or refused); a retry will still reach Temporal
            # with the same update id, which answers an applied update again.
            _log.warning("could not remember an idempotency key on %s: %r", ctx.case_id, exc)
            stored = first
    if stored.fingerprint != signed:
        raise InvalidRequest(
            "This Idempotency-Key was already used on this case for another request "
            f"(first '{stored.action}'; another action, body or key holder now); "
            "send a new key.",
            name="IdempotencyKeyReused",
        )
    if stored.status_code != 200:
        return JSONResponse(status_code=stored.status_code, content=stored.body)
    return present_case(case_from_dict(stored.body), ctx.actor, datetime.now(UTC))


def _status_of(exc: Exception) -> int:
    """The status the error handlers answer ``exc`` with (503 for what LastResort takes)."""
    if isinstance(exc, ApiError):
        return exc.status_code
    if isinstance(exc, TemporalError):
        return from_temporal(exc).status_code
    return 503


def _route(action: Action, body_model: type[BaseModel], build: Builder) -> None:
    row = TRANSITIONS[action]

    async def perform(
        case_id: CaseIdPath,
        actor: CurrentActor,
        gateway: GatewayDep,
        catalogue: CatalogueDep,
        engine: EngineDep,
        body: Any,
        metrics: MetricsDep,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> CasePublic | Response:
        tagged = case_context.set(case_id)  # this request's log lines are about the case
        try:
            require_role(actor, row.roles, f"'{action.value}' a case")
            ctx = ActionContext(case_id=case_id, actor=actor, catalogue=catalogue, gateway=gateway)
            if idempotency_key is not None:
                answer = await _perform_once(ctx, action, body, build, idempotency_key, engine)
            else:
                command = await build(ctx, body)
                case = await gateway.act(case_id, action, command)
                answer = present_case(case, actor, datetime.now(UTC))
        except Exception as exc:
            metrics.count_action(action, _status_of(exc))
            raise
        finally:
            case_context.reset(tagged)
        metrics.count_action(action, answer.status_code if isinstance(answer, Response) else 200)
        return answer

    # Give FastAPI the concrete body type so it validates and documents it.
    perform.__annotations__["body"] = body_model
    roles = ", ".join(sorted(role.value for role in row.roles))
    stages = ", ".join(sorted(stage.value for stage in row.from_stages))
    router.add_api_route(
        f"/{{case_id}}/{action.value}",
        perform,
        methods=["POST"],
        response_model=CasePublic,
        responses=responses(401, 403, 404, 409, 422, 503),
        summary=row.summary,
        description=f"Role: {roles}. From stage: {stages}. Send an `Idempotency-Key` to make "
        "a retry safe.",
        name=f"action_{action.value.replace('-', '_')}",
    )


if set(ACTIONS) != set(TRANSITIONS):  # pragma: no cover - guards a half-added action
    raise RuntimeError("every action of the transition table needs a route body")

for _action, (_body_model, _build) in ACTIONS.items():
    _route(_action, _body_model, _build)
