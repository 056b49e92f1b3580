"""Writing a case and its new events into the read model.

Called by the projection activity, which Temporal retries and may run late or
twice. So the write is idempotent and monotonic: events are keyed by
``(case_id, seq)``, the case by its id, and every row carries the ``version``
of the projection that wrote it: when its workflow task started, in
microseconds. A projection runs before Temporal has recorded its task; when
that task is lost (its worker killed, an Update's speculative task dropped)
and run again, the re-run starts later and its rows replace the lost run's,
whose times and choices the history never kept. (The history length is no
such version: a lost speculative or transient task leaves none behind.)
A late projection of an older task never overwrites a newer one. Each
write is a single upsert statement, so two workers projecting the same case at
once cannot interleave a read and a write.

The statements are built once per dialect and take the rows as parameters, so
SQLAlchemy compiles each once and reuses it; a worker writes many projections
in one transaction (:mod:`grievance_flow.store.projection_writer`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Table, and_, bindparam, or_, select

from grievance_flow.store.dialect import insert_for
from grievance_flow.store.models import CaseRecord, EventRecord
from grievance_flow.store.sealing import FieldCipher, cipher_of, seal_doc
from grievance_flow.store.serialization import case_to_dict, event_to_dict
from grievance_flow.store.webhooks import enqueue_into
from grievance_flow.webhooks.messages import is_public, message
from grievance_flow.workflows.contracts import CaseView, Event, Stage, Status

_cases: Table = CaseRecord.__table__  # type: ignore[attr-defined]
_events: Table = EventRecord.__table__  # type: ignore[attr-defined]


def version_of(task_started_at: datetime | None) -> int:
    """A projection's version: its workflow task's start in microseconds (0: unknown)."""
    if task_started_at is None:
        return 0
    return int(task_started_at.timestamp() * 1_000_000)


def project_case(engine: Engine, case: CaseView, events: list[Event], *, version: int = 0) -> None:
    """Bring the read model up to ``case`` and record ``events``, in one transaction.

    A stored row (case, or event of the same seq) is replaced when ``version``
    is newer, or for the case row equal with ``case.last_seq`` at least the
    stored one; a projection of an older version than the stored case changes
    nothing. A newer version also drops the events past ``case.last_seq`` that
    only a lost run had written.

    Args:
        engine: A read-model engine (SQLite or PostgreSQL).
        case: The case as the workflow sees it now.
        events: Events to record, normally those after the previous projection.
        version: :func:`version_of` the projecting workflow task's start.

    Raises:
        ValueError: A datetime in ``case`` or ``events`` is naive.
    """
    with engine.begin() as connection:
        project_into(connection, case, events, version=version)


def project_into(
    connection: Connection, case: CaseView, events: list[Event], *, version: int = 0
) -> None:
    """:func:`project_case` inside the caller's transaction on ``connection``.

    Raises:
        ValueError: A datetime in ``case`` or ``events`` is naive.
    """
    row = case_row(case, cipher_of(connection.engine)) | {"version": version}
    event_rows = [event_row(case.id, event) | {"version": version} for event in events]
    statements = _statements(
        connection.dialect.name, tuple(row), tuple(event_rows[0]) if event_rows else ()
    )
    # The case first: events reference it by foreign key.
    connection.execute(statements.upsert_case, row)
    stored = connection.execute(statements.case_version, {"case_id": case.id}).scalar_one()
    if stored > version:
        return  # a lost run's projection, arriving late: the newer run has it all
    if event_rows:
        connection.execute(statements.upsert_events, event_rows)
        # The webhook outbox, in the same transaction: no event recorded here
        # can miss its subscribers, and none is queued without being recorded.
        public = [event for event in events if is_public(event)]
        enqueue_into(
            connection,
            [(case.id, event.seq, event.type.value, message(case, event)) for event in public],
            datetime.now(UTC),
        )
    connection.execute(
        statements.drop_lost_events,
        {"case_id": case.id, "last_seq": case.last_seq, "version": version},
    )


def case_row(case: CaseView, cipher: FieldCipher | None = None) -> dict[str, Any]:
    """Return the ``cases`` columns for ``case``, including its full ``doc``.

    With a ``cipher`` the reporter's name and phone are sealed, in the columns
    and in ``doc``, and the phone's lookup hash is set (:mod:`.sealing`).
    """
    seal = cipher.seal if cipher is not None else str
    deadline = None
    if case.status is Status.OPEN and case.stage is not Stage.CLOSED:
        deadline = case.deadlines.get(case.stage.value)
    return {
        "id": case.id,
        "external_id": case.external_id,
        "channel": case.channel,
        "stage": case.stage.value,
        "status": case.status.value,
        "category": case.category,
        "suggested_category": case.suggested_category,
        "tier": case.tier,
        "unit": case.unit,
        "co_units": list(case.co_units),
        "reporter_name": seal(case.reporter.name),
        "reporter_phone": seal(case.reporter.phone),
        "reporter_phone_hash": cipher.caller_hash(case.reporter.phone) if cipher else None,
        "description": case.description,
        "address": case.location.address,
        "grid": case.location.grid,
        "lat": case.location.lat,
        "lon": case.location.lon,
        "urgent": case.urgent,
        "supervised": case.supervised,
        "escalations": case.escalations,
        "returns": case.returns,
        "reopens": case.reopens,
        "outcome": case.outcome.value if case.outcome is not None else None,
        "accepted_on_time": case.accepted_on_time,
        "completed_on_time": case.completed_on_time,
        "overdue_stages": list(case.overdue_stages),
        "sla_stage": deadline.stage.value if deadline is not None else None,
        "due_at": deadline.due_at if deadline is not None else None,
        "warn_at": deadline.warn_at if deadline is not None else None,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "closed_at": case.closed_at,
        "last_seq": case.last_seq,
        "doc": seal_doc(case_to_dict(case), cipher),
    }


def event_row(case_id: str, event: Event) -> dict[str, Any]:
    """Return the ``events`` columns for one event of ``case_id``."""
    plain = event_to_dict(event)  # also refuses a naive ``at`` before it reaches SQL
    return {
        "case_id": case_id,
        "seq": event.seq,
        "type": event.type.value,
        "at": event.at,
        "actor_role": event.actor.role.value,
        "actor_unit": event.actor.unit,
        "actor_holder": event.actor.holder,
        "actor_key_id": event.actor.key_id,
        "stage": event.stage.value,
        "data": plain["data"],
    }


class _Statements:
    """The projection's four statements for one dialect and the columns it writes, built once.

    An upsert sets only the columns the projection writes: a column it does not
    know of keeps what another writer put there.
    """

    def __init__(
        self, dialect: str, case_columns: tuple[str, ...], event_columns: tuple[str, ...]
    ) -> None:
        cases = insert_for(dialect, _cases)
        self.upsert_case: Executable = cases.on_conflict_do_update(
            index_elements=[_cases.c.id],
            set_={name: cases.excluded[name] for name in case_columns if name != "id"},
            # Newer state wins: a late retry of an older projection never rolls back.
            where=or_(
                _cases.c.version < cases.excluded.version,
                and_(
                    _cases.c.version == cases.excluded.version,
                    _cases.c.last_seq <= cases.excluded.last_seq,
                ),
            ),
        )
        self.case_version: Executable = select(_cases.c.version).where(
            _cases.c.id == bindparam("case_id")
        )
        events = insert_for(dialect, _events)
        self.upsert_events: Executable = events.on_conflict_do_update(
            index_elements=[_events.c.case_id, _events.c.seq],
            set_={
                name: events.excluded[name]
                for name in event_columns
                if name not in ("case_id", "seq")
            }
            or {"version": events.excluded.version},
            where=_events.c.version < events.excluded.version,
        )
        self.drop_lost_events: Executable = _events.delete().where(
            _events.c.case_id == bindparam("case_id"),
            _events.c.seq > bindparam("last_seq"),
            _events.c.version < bindparam("version"),
        )


@cache
def _statements(
    dialect: str, case_columns: tuple[str, ...], event_columns: tuple[str, ...]
) -> _Statements:
    return _Statements(dialect, case_columns, event_columns)
