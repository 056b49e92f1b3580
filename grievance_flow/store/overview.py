"""The command centre's overview (态势): where open cases are, which lights are on.

Read from the read model in SQL, so it costs a few indexed queries however
many cases there are: open cases counted per stage (``GROUP BY``), the red and
yellow lights (红灯 overdue, 黄灯 warning) oldest deadline first with their
totals, and the latest escalations (提级) from the timeline.

The lights are judged as the API's ``sla.state`` judges a case (presenters'
``sla_state``): red from ``due_at`` on, yellow from ``warn_at`` until then.
Both columns are plain timestamps (UTC, naive on SQLite), so the comparisons
mean the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, select
from sqlmodel import col

from grievance_flow.store.models import CaseRecord, EventRecord
from grievance_flow.workflows.contracts import EventType, Stage, Status

OPEN_STAGES: tuple[Stage, ...] = tuple(stage for stage in Stage if stage is not Stage.CLOSED)
"""The stages an open case can be in, in lifecycle order."""


@dataclass(frozen=True)
class LitCase:
    """An open case whose light is on: no reporter, no text, only what to chase it by."""

    id: str
    stage: Stage
    unit: str | None
    category: str | None
    due_at: datetime
    warn_at: datetime | None


@dataclass(frozen=True)
class Lights:
    """The first ``len(items)`` cases of one light, oldest deadline first, and how many in all."""

    total: int
    items: list[LitCase]


@dataclass(frozen=True)
class Escalation:
    """One escalation (提级) from the timeline: the case moved from one unit to another."""

    case_id: str
    at: datetime
    stage: Stage
    from_unit: str | None
    to_unit: str | None
    tier: str | None


@dataclass(frozen=True)
class Overview:
    """The overview at ``at``.

    Attributes:
        at: The instant the lights were judged at.
        open_by_stage: Open cases per stage, every open stage present (0 too).
        closed: Cases closed (办结归档, withdrawn and merged included).
        red: Open cases past their current stage's deadline (超期).
        yellow: Open cases past the warning time, not yet due (预警).
        escalations: The latest escalations, newest first.
    """

    at: datetime
    open_by_stage: dict[Stage, int]
    closed: int
    red: Lights
    yellow: Lights
    escalations: list[Escalation]


def read_overview(
    engine: Engine,
    *,
    now: datetime,
    unit: str | None = None,
    limit: int = 50,
    escalations: int = 20,
) -> Overview:
    """Return the overview of the read model at ``now``.

    Args:
        engine: A read-model engine.
        now: The instant the lights are judged at (aware).
        unit: Only cases assigned to this unit (a unit's own view).
        limit: At most this many cases per light.
        escalations: At most this many escalations.

    Raises:
        ValueError: ``now`` is naive, or a limit is negative.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if limit < 0 or escalations < 0:
        raise ValueError(f"limits must not be negative (got {limit}, {escalations})")
    scope: list[ColumnElement[bool]] = []
    if unit is not None:
        scope.append(col(CaseRecord.unit) == unit)
    with engine.connect() as connection:
        counts = _counts_by_stage(connection, scope)
        red = _lights(connection, [*scope, _red(now)], limit)
        yellow = _lights(connection, [*scope, _yellow(now)], limit)
        latest = _escalations(connection, unit, escalations)
    return Overview(
        at=now,
        open_by_stage={
            stage: counts.get((stage.value, Status.OPEN.value), 0) for stage in OPEN_STAGES
        },
        closed=sum(n for (_, status), n in counts.items() if status == Status.CLOSED.value),
        red=red,
        yellow=yellow,
        escalations=latest,
    )


def _is_open() -> ColumnElement[bool]:
    return col(CaseRecord.status) == Status.OPEN.value


def _red(now: datetime) -> ColumnElement[bool]:
    return and_(_is_open(), col(CaseRecord.due_at).is_not(None), col(CaseRecord.due_at) <= now)


def _yellow(now: datetime) -> ColumnElement[bool]:
    # A clock without a warning time (rows from before 0007 that had none) is
    # never yellow: it turns red at its deadline like any other.
    return and_(
        _is_open(),
        col(CaseRecord.warn_at).is_not(None),
        col(CaseRecord.warn_at) <= now,
        col(CaseRecord.due_at) > now,
    )


def _counts_by_stage(
    connection: Connection, scope: list[ColumnElement[bool]]
) -> dict[tuple[str, str], int]:
    stage, status = col(CaseRecord.stage), col(CaseRecord.status)
    statement = select(stage, status, func.count()).where(*scope).group_by(stage, status)
    return {(row[0], row[1]): int(row[2]) for row in connection.execute(statement)}


def _lights(connection: Connection, conditions: list[ColumnElement[bool]], limit: int) -> Lights:
    count = select(func.count()).select_from(CaseRecord).where(*conditions)
    total = connection.execute(count).scalar_one()
    statement = (
        select(
            col(CaseRecord.id),
            col(CaseRecord.stage),
            col(CaseRecord.unit),
            col(CaseRecord.category),
            col(CaseRecord.due_at),
            col(CaseRecord.warn_at),
        )
        .where(*conditions)
        .order_by(col(CaseRecord.due_at), col(CaseRecord.id))
        .limit(limit)
    )
    items = [
        LitCase(
            id=case_id,
            stage=Stage(stage),
            unit=unit,
            category=category,
            due_at=due_at,
            warn_at=warn_at,
        )
        for case_id, stage, unit, category, due_at, warn_at in connection.execute(statement)
        if due_at is not None  # always: both lights require it; narrows the type
    ]
    return Lights(total=int(total), items=items)


def _escalations(connection: Connection, unit: str | None, limit: int) -> list[Escalation]:
    statement = select(
        col(EventRecord.case_id), col(EventRecord.at), col(EventRecord.stage), col(EventRecord.data)
    ).where(col(EventRecord.type) == EventType.ESCALATED.value)
    if unit is not None:
        # A unit sees the escalations of the cases it holds now (those it may read).
        statement = statement.join(CaseRecord, col(CaseRecord.id) == col(EventRecord.case_id))
        statement = statement.where(col(CaseRecord.unit) == unit)
    statement = statement.order_by(
        col(EventRecord.at).desc(), col(EventRecord.case_id), col(EventRecord.seq).desc()
    ).limit(limit)
    return [
        Escalation(
            case_id=case_id,
            at=at,
            stage=Stage(stage),
            from_unit=_text(data, "from"),
            to_unit=_text(data, "to"),
            tier=_text(data, "tier"),
        )
        for case_id, at, stage, data in connection.execute(statement)
    ]


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) else None
