"""Hotspots (每月一题, 未诉先办): where the same problem keeps being reported.

A hotspot is a category × grid cluster of cases filed in the last ``days``
days, compared with the ``days`` before. The command centre picks the month's
problem from them (每月一题) and opens a case of its own before the next call
comes (未诉先办).

Counted in one SQL statement on the read model's ``cases`` table, portable
between SQLite and PostgreSQL. Windows are half-open, ``[from, to)``, so a case
filed exactly at a boundary is counted once, in the later window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select
from sqlalchemy.orm import Mapped
from sqlmodel import col

from grievance_flow.store.models import CaseRecord
from grievance_flow.workflows.contracts import PROACTIVE_CHANNEL, Outcome

NOT_COUNTED_OUTCOMES: tuple[str, ...] = (Outcome.MERGED.value, Outcome.REJECTED.value)
"""Duplicates (并单) are counted in the case they were merged into; rejected cases were
never a problem of the grid (invalid, or outside the remit)."""


class Trend(StrEnum):
    """This window against the previous one."""

    UP = "up"
    DOWN = "down"
    FLAT = "flat"
    NEW = "new"
    """No case of the cluster in the previous window."""


@dataclass(frozen=True)
class Window:
    """A half-open span of filing times, ``[start, end)``."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class HotspotWindows:
    """The window counted (``current``) and the one it is compared with (``previous``)."""

    current: Window
    previous: Window


def windows(now: datetime, days: int) -> HotspotWindows:
    """The last ``days`` days before ``now``, and the ``days`` days before those.

    Raises:
        ValueError: ``days`` is not positive, or ``now`` is naive.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    span = timedelta(days=days)
    return HotspotWindows(
        current=Window(start=now - span, end=now),
        previous=Window(start=now - 2 * span, end=now - span),
    )


def trend_of(cases: int, previous: int) -> Trend:
    """``new`` when the previous window had none, else up, down or flat."""
    if previous == 0:
        return Trend.NEW
    if cases > previous:
        return Trend.UP
    if cases < previous:
        return Trend.DOWN
    return Trend.FLAT


@dataclass
class Hotspot:
    """One category × grid cluster.

    Attributes:
        category: The case's category, or its suggested one while not dispatched.
        grid: The grid (D-tier unit) of the cases' location.
        cases: Cases filed in the current window.
        previous: Cases filed in the previous window.
        trend: ``cases`` against ``previous``.
        case_ids: The current window's cases, oldest first.
    """

    category: str
    grid: str
    cases: int
    previous: int
    trend: Trend
    case_ids: list[str] = field(default_factory=list)


def hotspots(
    engine: Engine,
    *,
    now: datetime,
    days: int,
    min_cases: int,
    unit: str | None = None,
    category: str | None = None,
    grid: str | None = None,
) -> list[Hotspot]:
    """Category × grid clusters with at least ``min_cases`` cases in the last ``days`` days.

    Most cases first, then by category and grid. A case counts under its
    category, or before dispatch its suggested category; one with neither is
    not counted. Not counted either: cases closed as duplicates (``merged``) or
    ``rejected``, and proactive cases (a case the command centre opened from a
    hotspot must not feed that hotspot).

    Args:
        engine: A read-model engine.
        now: The end of the current window (aware); passed in so callers and
            tests decide the clock.
        days: The length of each window.
        min_cases: The fewest current-window cases a cluster needs to be listed.
        unit: Only cases assigned to this unit (a unit key sees its own).
        category: Only the clusters of this category.
        grid: Only the clusters of this grid.

    Raises:
        ValueError: ``days`` or ``min_cases`` is below 1, or ``now`` is naive.
    """
    if min_cases < 1:
        raise ValueError(f"min_cases must be at least 1 (got {min_cases})")
    spans = windows(now, days)
    created = col(CaseRecord.created_at)
    # A case's problem: what it was dispatched as, else what the classifier saw.
    problem = func.coalesce(col(CaseRecord.category), col(CaseRecord.suggested_category))
    place = col(CaseRecord.grid)
    counted = _counted(unit)
    if category is not None:
        counted.append(problem == category)
    if grid is not None:
        counted.append(place == grid)

    current = _within(created, spans.current)
    in_current = func.sum(case((current, 1), else_=0))
    in_previous = func.sum(case((_within(created, spans.previous), 1), else_=0))
    clusters = (
        select(
            problem.label("category"),
            place.label("grid"),
            in_current.label("cases"),
            in_previous.label("previous"),
        )
        .where(*counted, _within(created, Window(spans.previous.start, spans.current.end)))
        .group_by(problem, place)
        .having(in_current >= min_cases)
        .subquery("clusters")
    )
    # The same statement lists each cluster's current cases, so ids and counts
    # come from one snapshot of the table.
    rows = (
        select(
            clusters.c.category,
            clusters.c.grid,
            clusters.c.cases,
            clusters.c.previous,
            col(CaseRecord.id),
        )
        .select_from(CaseRecord)
        .join(clusters, and_(problem == clusters.c.category, place == clusters.c.grid))
        .where(*counted, current)
        .order_by(created, col(CaseRecord.id))
    )
    found: dict[tuple[str, str], Hotspot] = {}
    with engine.connect() as connection:
        for cluster_category, cluster_grid, cases, previous, case_id in connection.execute(rows):
            key = (cluster_category, cluster_grid)
            spot = found.get(key)
            if spot is None:
                spot = found[key] = Hotspot(
                    category=cluster_category,
                    grid=cluster_grid,
                    cases=int(cases),
                    previous=int(previous),
                    trend=trend_of(int(cases), int(previous)),
                )
            spot.case_ids.append(case_id)
    # Sorted here rather than in SQL: PostgreSQL orders text by the database's
    # locale, SQLite by code point; the list must not depend on which one runs.
    return sorted(found.values(), key=lambda spot: (-spot.cases, spot.category, spot.grid))


def _within(created: Mapped[datetime], window: Window) -> ColumnElement[bool]:
    return and_(created >= window.start, created < window.end)


def _counted(unit: str | None) -> list[ColumnElement[bool]]:
    """The cases a hotspot counts (see :func:`hotspots`)."""
    outcome = col(CaseRecord.outcome)
    conditions: list[ColumnElement[bool]] = [
        or_(col(CaseRecord.category).is_not(None), col(CaseRecord.suggested_category).is_not(None)),
        col(CaseRecord.channel) != PROACTIVE_CHANNEL,
        # outcome is NULL while the case is open; NOT IN alone would drop those.
        or_(outcome.is_(None), outcome.not_in(NOT_COUNTED_OUTCOMES)),
    ]
    if unit is not None:
        conditions.append(col(CaseRecord.unit) == unit)
    return conditions


def known_cases(engine: Engine, case_ids: list[str]) -> set[str]:
    """Which of ``case_ids`` the read model holds: a proactive case links only real cases."""
    if not case_ids:
        return set()
    statement = select(col(CaseRecord.id)).where(col(CaseRecord.id).in_(case_ids))
    with engine.connect() as connection:
        return set(connection.execute(statement).scalars())
