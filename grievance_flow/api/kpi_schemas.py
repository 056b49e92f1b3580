"""Response bodies of ``GET /v1/kpis`` and ``GET /v1/kpis/ranking`` (SPEC §11).

The item fields are those of :mod:`grievance_flow.reports.table`, in its order,
so the CSV header of the same request names exactly these fields.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from grievance_flow.store.kpis import KpiGroup

_RATE = "A fraction in [0, 1]; null when its denominator is 0."


class KpiItem(BaseModel):
    """One group's KPIs: the rates of SPEC §11 and the counts they are made of."""

    key: str | None = Field(
        description="Unit id, category code, grid id or local day (YYYY-MM-DD); "
        "null: cases without one (not yet dispatched / classified)"
    )
    name: str | None = Field(description="The unit's or category's name (名称)")
    cases: int = Field(description="受理量: cases filed")
    accepted_on_time_rate: float | None = Field(description=f"及时签收率. {_RATE}")
    completed_on_time_rate: float | None = Field(description=f"按时办结率. {_RATE}")
    return_rate: float | None = Field(description=f"退单率. {_RATE}")
    reopen_rate: float | None = Field(description=f"重办率. {_RATE}")
    satisfaction_rate: float | None = Field(description=f"满意率. {_RATE}")
    resolution_rate: float | None = Field(description=f"解决率. {_RATE}")
    overdue: int = Field(description="超期: cases with at least one overdue stage")
    escalations: int = Field(description="提级: escalations")
    accepted: int = Field(description="Cases signed for (签收)")
    accepted_on_time: int = Field(description="Cases signed for before the accept deadline")
    completed: int = Field(description="Cases completed (办结反馈)")
    completed_on_time: int = Field(description="Completed before the (extended) deadline")
    dispatched: int = Field(description="Cases dispatched (by unit: to this unit)")
    returned: int = Field(description="Cases returned at least once (by unit: by this unit)")
    rechecked: int = Field(description="Cases rechecked (核查回访)")
    reopened: int = Field(description="Cases reopened at least once (重办)")
    reached: int = Field(description="Cases whose last recheck reached the citizen")
    satisfied: int = Field(description="Of those, satisfied or basically satisfied")
    closed: int = Field(description="Cases closed, withdrawn and merged excluded")
    resolved: int = Field(description="Of those, closed resolved")


class ReportRange(BaseModel):
    """``[from, to)`` in the catalogue's time zone."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    timezone: str


class KpiReport(BaseModel):
    """``GET /v1/kpis``: one item per group, ordered by key (null last)."""

    group_by: KpiGroup
    range: ReportRange
    items: list[KpiItem]


class RankingWeightsPublic(BaseModel):
    """The catalogue policy's weights (响应 / 解决 / 满意)."""

    response: float
    resolution: float
    satisfaction: float


class RankingItem(BaseModel):
    """One unit's place in the ranking, with each component of its score."""

    rank: int | None = Field(description="1 is best; equal scores share a rank; null: no score")
    unit: str
    name: str | None
    score: float | None = Field(
        description="0–100: the weighted mean of the three rates the unit has"
    )
    response_rate: float | None = Field(description="响应率 = 及时签收率")
    resolution_rate: float | None = Field(description="解决率")
    satisfaction_rate: float | None = Field(description="满意率")
    below_line: bool = Field(description="及时签收率 below 80 % (some centres then score it 0)")
    cases: int
    accepted: int
    accepted_on_time: int
    closed: int
    resolved: int
    reached: int
    satisfied: int


class Ranking(BaseModel):
    """``GET /v1/kpis/ranking``: units best first."""

    period: str
    month: str
    range: ReportRange
    weights: RankingWeightsPublic
    items: list[RankingItem]
