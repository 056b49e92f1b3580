"""Request and response bodies of ``/v1/hotspots`` (每月一题, 未诉先办)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from grievance_flow.api.schemas import ExternalId, ShortText, Text
from grievance_flow.store.hotspots import Trend

MAX_RELATED_CASES = 200
"""The most cases a proactive case links: the link travels in every projection of the
case's history, so a cluster of thousands is linked by its newest 200."""


class WindowPublic(BaseModel):
    """A half-open span of filing times, ``[from, to)``."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime


class HotspotPublic(BaseModel):
    """One category × grid cluster."""

    category: str
    category_name: str | None = Field(description="None if the catalogue no longer has it.")
    grid: str
    grid_name: str | None = Field(description="None if the catalogue no longer has it.")
    cases: int = Field(description="Cases filed in `window`.")
    previous: int = Field(description="Cases filed in `previous`.")
    trend: Trend = Field(
        description="`new` when `previous` is 0, else `up`, `down` or `flat` "
        "(`cases` against `previous`)."
    )
    case_ids: list[str] = Field(description="The cases filed in `window`, oldest first.")


class HotspotList(BaseModel):
    """Clusters with at least ``min_cases`` cases in the window, most cases first."""

    days: int
    min_cases: int
    window: WindowPublic
    previous: WindowPublic
    items: list[HotspotPublic]


class ProactiveCaseCreate(BaseModel):
    """A case the command centre opens itself for a hotspot (未诉先办)."""

    model_config = ConfigDict(extra="forbid")

    category: ShortText
    grid: ShortText
    note: Text = Field(description="What is to be done; it becomes the case's description.")
    related_cases: list[ShortText] | None = Field(
        default=None,
        max_length=MAX_RELATED_CASES,
        description="The cases behind it; by default the hotspot's cases of the last 30 "
        f"days (its newest {MAX_RELATED_CASES}).",
    )
    external_id: ExternalId | None = Field(
        default=None,
        description="The command centre's own id of the case; the same one again answers "
        "200 with the case already opened. By default a new one is made.",
    )
