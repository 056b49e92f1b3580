"""Upgrading a read model that already holds cases keeps every row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine
from sqlmodel import Session

from grievance_flow.store.engine import alembic_config, make_engine, migrate
from grievance_flow.store.keys import hash_key, key_id_for, resolve_key
from grievance_flow.store.models import CaseRecord
from grievance_flow.store.notices import list_notices, record_notice
from grievance_flow.store.projection import case_row, event_row, project_case
from grievance_flow.store.queries import case_events, get_case
from grievance_flow.store.serialization import case_to_dict
from grievance_flow.workflows.contracts import Actor, CaseView, Role, Stage
from tests.store.factories import make_case, make_events, make_notice

KPI_FIELDS = ("accepted_on_time", "completed_on_time", "overdue_stages")


def _move_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def _version(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar())


def _insert_as_0001(engine: Engine, case: CaseView) -> None:
    """Write ``case`` and its events as the 0001 code did: no KPI columns or fields."""
    later = (*KPI_FIELDS, "warn_at")
    row = {name: value for name, value in case_row(case).items() if name not in later}
    row["doc"] = {k: v for k, v in case_to_dict(case).items() if k not in KPI_FIELDS}
    events = [event_row(case.id, event) for event in make_events(3)]
    with engine.begin() as connection:
        metadata = sa.MetaData()
        cases = sa.Table("cases", metadata, autoload_with=connection)
        stored_events = sa.Table("events", metadata, autoload_with=connection)
        if engine.dialect.name == "sqlite":
            # The reflected SQLite type would drop the offset; 0001 stored naive UTC.
            row = {k: _naive(v) if isinstance(v, datetime) else v for k, v in row.items()}
            for event in events:
                event["at"] = _naive(event["at"])
        connection.execute(cases.insert(), [row])
        connection.execute(stored_events.insert(), events)


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _record(engine: Engine, case_id: str) -> CaseRecord:
    with Session(engine) as session:
        record = session.get(CaseRecord, case_id)
    assert record is not None
    return record


@pytest.fixture
def engine_at_0001(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated only to 0001."""
    engine = make_engine(database_url)
    _move_to(engine, "0001")
    try:
        yield engine
    finally:
        engine.dispose()


def test_upgrade_keeps_cases_events_and_keys(engine_at_0001: Engine) -> None:
    engine = engine_at_0001
    case = make_case("old-1", stage=Stage.HANDLE, last_seq=3)
    _insert_as_0001(engine, case)
    key = "gf_old-auditor-key"
    with engine.begin() as connection:  # as 0001 stored keys: no key id, no holder column use
        connection.execute(
            sa.text(
                "INSERT INTO api_keys (key_hash, role, unit, label, created_at) "
                "VALUES (:hash, 'auditor', NULL, '', :at)"
            ),
            {"hash": hash_key(key), "at": datetime(2026, 3, 1, tzinfo=UTC)},
        )

    migrate(engine)

    assert _version(engine) == "0010"
    # The old document lacks the KPI fields; it still reads back, with their defaults.
    assert get_case(engine, case.id) == case
    assert case_events(engine, case.id) == make_events(3)
    # The old key gets its id from its hash, and no holder yet.
    assert resolve_key(engine, key) == Actor(role=Role.AUDITOR, key_id=key_id_for(key))
    record = _record(engine, case.id)
    assert (record.accepted_on_time, record.completed_on_time) == (None, None)
    assert record.overdue_stages == []
    assert list_notices(engine) == ([], 0)


def test_after_upgrade_old_cases_take_kpi_facts_and_notices(engine_at_0001: Engine) -> None:
    engine = engine_at_0001
    case = make_case("old-2", stage=Stage.HANDLE, last_seq=3)
    _insert_as_0001(engine, case)
    migrate(engine)

    closed = make_case(
        "old-2",
        stage=Stage.CLOSED,
        last_seq=4,
        accepted_on_time=True,
        completed_on_time=False,
        overdue_stages=["handle", "report_in"],
    )
    project_case(engine, closed, make_events(1, first_seq=4))
    record_notice(engine, make_notice(case_id=case.id))

    record = _record(engine, case.id)
    kpis: dict[str, Any] = {name: getattr(record, name) for name in KPI_FIELDS}
    assert kpis == {
        "accepted_on_time": True,
        "completed_on_time": False,
        "overdue_stages": ["handle", "report_in"],
    }
    assert get_case(engine, case.id) == closed
    assert [e.seq for e in case_events(engine, case.id)] == [1, 2, 3, 4]
    assert list_notices(engine, case_id=case.id)[1] == 1


def test_downgrade_keeps_cases_and_their_events(engine_at_0001: Engine) -> None:
    engine = engine_at_0001
    case = make_case("old-3", last_seq=3)
    _insert_as_0001(engine, case)
    migrate(engine)

    _move_to(engine, "0001", down=True)

    assert _version(engine) == "0001"
    inspector = sa.inspect(engine)
    assert "notices" not in inspector.get_table_names()
    columns = {column["name"] for column in inspector.get_columns("cases")}
    assert columns.isdisjoint(KPI_FIELDS)
    with engine.connect() as connection:
        counts = [
            connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            for table in ("cases", "events")
        ]
    # On SQLite a table-copying downgrade would have cascaded to the events.
    assert counts == [1, 3]


def test_upgrade_to_0003_marks_delivered_notices_and_keeps_pending_ones(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        _move_to(engine, "0002")
        delivered, pending = make_notice(case_id="c-1"), make_notice(case_id="c-2")
        delivered.id, pending.id = "c-1:5", "c-2:7"
        with engine.begin() as connection:
            notices = sa.Table("notices", sa.MetaData(), autoload_with=connection)
            for notice, delivered_at in ((delivered, delivered.at), (pending, None)):
                row: dict[str, Any] = {
                    "id": notice.id,
                    "case_id": notice.case_id,
                    "kind": notice.kind.value,
                    "recipient_role": notice.recipient_role.value,
                    "recipient_unit": notice.recipient_unit,
                    "message": notice.message,
                    "at": notice.at,
                    "data": {},
                    "delivered_at": delivered_at,
                }
                if engine.dialect.name == "sqlite":
                    row = {k: _naive(v) if isinstance(v, datetime) else v for k, v in row.items()}
                connection.execute(notices.insert(), [row])

        migrate(engine)

        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT id, status, attempts, last_error FROM notices ORDER BY id"
            ).all()
        assert [tuple(row) for row in rows] == [
            ("c-1:5", "delivered", 0, None),
            ("c-2:7", "pending", 0, None),
        ]
        assert "action_requests" in sa.inspect(engine).get_table_names()
        _move_to(engine, "0002", down=True)
        assert "action_requests" not in sa.inspect(engine).get_table_names()
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM notices").scalar()
        assert count == 2
    finally:
        engine.dispose()


def test_upgrade_to_0007_gives_open_cases_their_warning_time(engine_at_0001: Engine) -> None:
    engine = engine_at_0001
    waiting = make_case("old-warn", stage=Stage.HANDLE, last_seq=3)
    closed = make_case("old-closed", stage=Stage.CLOSED, last_seq=3)
    _insert_as_0001(engine, waiting)
    _insert_as_0001(engine, closed)

    migrate(engine)

    assert _record(engine, waiting.id).warn_at == waiting.deadlines["handle"].warn_at
    assert _record(engine, closed.id).warn_at is None
    _move_to(engine, "0006", down=True)
    columns = {column["name"] for column in sa.inspect(engine).get_columns("cases")}
    assert "warn_at" not in columns and "due_at" in columns
