"""The read-model queries behind Open311: requests by its filters, and updates by time.

An Open311 request is a case; its ``service_code`` is the category it is
dispatched under, else the category the reporter filed it under
(``category_hint``), else the classifier's suggestion (:func:`service_code_of`).
The filter compares the same expression in SQL, so what is listed under a code
is what shows that code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Engine
from sqlmodel import Session, col, select

from grievance_flow.store.models import CaseRecord, EventRecord
from grievance_flow.store.queries import event_of
from grievance_flow.store.sealing import cipher_of, open_doc
from grievance_flow.store.serialization import case_from_dict
from grievance_flow.workflows.contracts import (
    PUBLIC_EVENT_TYPES,
    CaseView,
    Event,
    Outcome,
    Reporter,
    Status,
)

_PUBLIC = [event_type.value for event_type in PUBLIC_EVENT_TYPES]


def service_code_of(case: CaseView) -> str | None:
    """The Open311 ``service_code`` of ``case`` (see the module docstring)."""
    return case.category or case.category_hint or case.suggested_category


def _service_code() -> ColumnElement[str]:
    hint = col(CaseRecord.doc)["category_hint"].as_string()
    return sa.func.coalesce(col(CaseRecord.category), hint, col(CaseRecord.suggested_category))


def list_requests(
    engine: Engine,
    *,
    ids: Sequence[str] | None = None,
    service_codes: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: Status | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[list[CaseView], int]:
    """Cases matching every given filter, newest filed first, and how many match.

    Args:
        engine: A read-model engine.
        ids: Only these case ids.
        service_codes: Only cases whose service code is one of these.
        start: Filed at or after (aware).
        end: Filed at or before (aware).
        status: Open or closed only.
        limit: Page size.
        offset: Cases to skip.
    """
    conditions: list[ColumnElement[bool]] = []
    if ids is not None:
        conditions.append(col(CaseRecord.id).in_(list(ids)))
    if service_codes is not None:
        conditions.append(_service_code().in_(list(service_codes)))
    if start is not None:
        conditions.append(col(CaseRecord.created_at) >= start)
    if end is not None:
        conditions.append(col(CaseRecord.created_at) <= end)
    if status is not None:
        conditions.append(col(CaseRecord.status) == status.value)
    count = select(sa.func.count()).select_from(CaseRecord).where(*conditions)
    page = (
        select(CaseRecord.doc)
        .where(*conditions)
        .order_by(col(CaseRecord.created_at).desc(), col(CaseRecord.id).desc())
        .limit(limit)
        .offset(offset)
    )
    with Session(engine) as session:
        total = session.exec(count).one()
        docs = session.exec(page).all()
    cipher = cipher_of(engine)
    return [case_from_dict(open_doc(doc, cipher)) for doc in docs], total


@dataclass(frozen=True)
class CaseUpdate:
    """One public event of a case, with what its Open311 update needs of the case."""

    case_id: str
    event: Event
    outcome: Outcome | None
    """The case's outcome, for events recorded once it was closed."""
    reporter: Reporter
    """Only to redact the reporter out of the update's sentence; never shown."""


def list_updates(
    engine: Engine, *, start: datetime, end: datetime, limit: int, offset: int = 0
) -> tuple[list[CaseUpdate], int]:
    """Public events recorded from ``start`` to ``end`` (inclusive), oldest first.

    Ordered by time, then case and ``seq``, so a page boundary is stable and a
    case's updates come in ``seq`` order.
    """
    conditions = [
        col(EventRecord.at) >= start,
        col(EventRecord.at) <= end,
        col(EventRecord.type).in_(_PUBLIC),
    ]
    count = select(sa.func.count()).select_from(EventRecord).where(*conditions)
    reporter = col(CaseRecord.doc)["reporter"]
    page = (
        select(
            EventRecord,
            col(CaseRecord.outcome),
            reporter["name"].as_string(),
            reporter["phone"].as_string(),
        )
        .join(CaseRecord, col(CaseRecord.id) == col(EventRecord.case_id))
        .where(*conditions)
        .order_by(col(EventRecord.at), col(EventRecord.case_id), col(EventRecord.seq))
        .limit(limit)
        .offset(offset)
    )
    with Session(engine) as session:
        total = session.exec(count).one()
        rows = session.exec(page).all()
    opened = cipher.open if (cipher := cipher_of(engine)) is not None else str
    return [
        CaseUpdate(
            case_id=record.case_id,
            event=event_of(record),
            outcome=Outcome(outcome) if outcome else None,
            # Only to redact them from public notes (never shown).
            reporter=Reporter(name=opened(name or ""), phone=opened(phone or "")),
        )
        for record, outcome, name, phone in rows
    ], total
