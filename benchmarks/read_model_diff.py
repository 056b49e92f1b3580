"""The read model against a rebuild of it, row by row, on any two engines (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from grievance_flow.store.models import CaseRecord, EventRecord


def rows_differing(live: Engine, rebuilt: Engine, case_ids: Collection[str]) -> list[str]:
    """The ``cases`` and ``events`` rows of ``case_ids`` that differ, or are on one side only.

    Rows are read through the models, so both sides come back as the same
    Python values (UTC datetimes, parsed JSON) whatever the database. Every
    column counts, ``version`` included: a rebuild writes each projection as
    the projecting workflow task did.

    Returns:
        One line per differing row (``cases/<id>`` or ``events/<id>#<seq>``), sorted.
    """
    ids = sorted(case_ids)
    found: list[str] = []
    for table, ours, theirs in (
        ("cases", _cases(live, ids), _cases(rebuilt, ids)),
        ("events", _events(live, ids), _events(rebuilt, ids)),
    ):
        for key in sorted(ours.keys() | theirs.keys()):
            if ours.get(key) != theirs.get(key):
                found.append(f"{table}/{key}")
    return found


def _cases(engine: Engine, ids: list[str]) -> dict[str, dict[str, Any]]:
    with Session(engine) as session:
        records = session.exec(select(CaseRecord).where(col(CaseRecord.id).in_(ids))).all()
    return {record.id: record.model_dump() for record in records}


def _events(engine: Engine, ids: list[str]) -> dict[str, dict[str, Any]]:
    with Session(engine) as session:
        records = session.exec(select(EventRecord).where(col(EventRecord.case_id).in_(ids))).all()
    return {f"{record.case_id}#{record.seq}": record.model_dump() for record in records}
