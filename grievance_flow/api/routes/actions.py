"""``POST /v1/grievances/{id}/{action}``: one documented route per actor action.

The routes are generated from :data:`ACTIONS`, which pairs each action of the
transition table with its request body and the Update input it becomes. The
role is checked here from the same table (a cheap early 403); stage and unit are
checked by the workflow's Update validator, so a refused action never reaches
the history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CatalogueDep, CurrentActor, GatewayDep
from grievance_flow.api.errors import Conflict, InvalidRequest, NotFound, responses
from grievance_flow.api.gateway import CaseGateway
from grievance_flow.api.presenters import present_case
from grievance_flow.api.schemas import (
    ArbitrateBody,
    CasePublic,
    CompleteBody,
    DecideExtensionBody,
    DispatchBody,
    ExtendBody,
    MergeBody,
    NoteBody,
    ReasonBody,
    RecheckBody,
    RequiredNoteBody,
    WhistleBody,
)
from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.catalogue.model import Catalogue
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
    WhistleInput,
    WithdrawInput,
)
from grievance_flow.workflows.lifecycle import TRANSITIONS

router = APIRouter(prefix="/v1/grievances", tags=["actions"])


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
    Action.WITHDRAW: (ReasonBody, _withdraw),
}


def _route(action: Action, body_model: type[BaseModel], build: Builder) -> None:
    row = TRANSITIONS[action]

    async def perform(
        case_id: str,
        actor: CurrentActor,
        gateway: GatewayDep,
        catalogue: CatalogueDep,
        body: Any,
    ) -> CasePublic:
        require_role(actor, row.roles, f"'{action.value}' a case")
        ctx = ActionContext(case_id=case_id, actor=actor, catalogue=catalogue, gateway=gateway)
        command = await build(ctx, body)
        case = await gateway.act(case_id, action, command)
        return present_case(case, actor, datetime.now(UTC))

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
        description=f"Role: {roles}. From stage: {stages}.",
        name=f"action_{action.value.replace('-', '_')}",
    )


if set(ACTIONS) != set(TRANSITIONS):  # pragma: no cover - guards a half-added action
    raise RuntimeError("every action of the transition table needs a route body")

for _action, (_body_model, _build) in ACTIONS.items():
    _route(_action, _body_model, _build)
