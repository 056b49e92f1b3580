"""Response body of ``GET /v1/overview``: the one-screen dashboard's live part (态势).

Lists carry only what a dispatcher chases a case by (id, stage, unit,
category, clock): never the reporter or the description, which a wall
screen in a command centre must not show.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from grievance_flow.store.overview import Escalation, Lights, LitCase, Overview
from grievance_flow.workflows.contracts import Stage


class LitCasePublic(BaseModel):
    """An open case whose light is on (红灯 / 黄灯)."""

    id: str
    stage: Stage
    unit: str | None = Field(description="承办单位: the unit holding it; null before dispatch")
    category: str | None
    due_at: datetime = Field(description="The current stage's deadline (到期)")
    warn_at: datetime | None = Field(description="When the stage turned yellow (预警)")

    @classmethod
    def of(cls, case: LitCase) -> LitCasePublic:
        """The public form of a stored light."""
        return cls(
            id=case.id,
            stage=case.stage,
            unit=case.unit,
            category=case.category,
            due_at=case.due_at,
            warn_at=case.warn_at,
        )


class LightsPublic(BaseModel):
    """One light's cases, oldest deadline first, and how many there are in all."""

    total: int = Field(description="Every case with this light, however many are listed")
    items: list[LitCasePublic]

    @classmethod
    def of(cls, lights: Lights) -> LightsPublic:
        """The public form of stored lights."""
        return cls(total=lights.total, items=[LitCasePublic.of(case) for case in lights.items])


class EscalationPublic(BaseModel):
    """One escalation (提级): the case left ``from`` for ``to``, a tier up."""

    model_config = ConfigDict(populate_by_name=True)

    case_id: str
    at: datetime
    stage: Stage = Field(description="The stage whose clock ran out")
    from_: str | None = Field(alias="from", description="The unit that lost the case")
    to: str | None = Field(description="The parent unit (or the command centre) now holding it")
    tier: str | None

    @classmethod
    def of(cls, escalation: Escalation) -> EscalationPublic:
        """The public form of a stored escalation."""
        return cls(
            case_id=escalation.case_id,
            at=escalation.at,
            stage=escalation.stage,
            from_=escalation.from_unit,
            to=escalation.to_unit,
            tier=escalation.tier,
        )


class OverviewPublic(BaseModel):
    """``GET /v1/overview``."""

    at: datetime = Field(description="When the lights were judged")
    open: int = Field(description="Open cases (在办)")
    open_by_stage: dict[Stage, int] = Field(
        description="Open cases per stage; every open stage is present, 0 too"
    )
    closed: int = Field(description="Closed cases (办结归档), withdrawn and merged included")
    red: LightsPublic = Field(description="红灯: open cases past their current deadline")
    yellow: LightsPublic = Field(description="黄灯: open cases past warn_at, not yet due")
    escalations: list[EscalationPublic] = Field(description="The latest escalations, newest first")

    @classmethod
    def of(cls, overview: Overview) -> OverviewPublic:
        """The public form of a stored overview."""
        return cls(
            at=overview.at,
            open=sum(overview.open_by_stage.values()),
            open_by_stage=overview.open_by_stage,
            closed=overview.closed,
            red=LightsPublic.of(overview.red),
            yellow=LightsPublic.of(overview.yellow),
            escalations=[EscalationPublic.of(item) for item in overview.escalations],
        )
