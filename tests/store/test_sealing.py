"""Reporters' names and phones sealed at rest, on SQLite and PostgreSQL (SPEC §12)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from grievance_flow.codec.keys import ensure_ring_file, read_ring, rotate_ring_file
from grievance_flow.store.idempotency import RememberedAnswer, recall, remember
from grievance_flow.store.projection import project_case
from grievance_flow.store.queries import get_case, list_cases
from grievance_flow.store.sealing import FieldCipher, UnreadableSealError, seal_read_model
from grievance_flow.store.serialization import case_to_dict
from grievance_flow.workflows.contracts import Reporter
from tests.store.factories import T0, make_case

NAME, PHONE = "张三", "13812345678"
NOW = datetime(2026, 3, 5, tzinfo=UTC)


@pytest.fixture
def ring_file(tmp_path: Path) -> Path:
    return ensure_ring_file(tmp_path)


def raw_rows(engine: Engine) -> str:
    """Every cases and action_requests row as the database holds it, as text."""
    with engine.connect() as connection:
        cases = connection.execute(sa.text("SELECT * FROM cases")).all()
        answers = connection.execute(sa.text("SELECT * FROM action_requests")).all()
    return repr(cases) + repr(answers)


def test_name_and_phone_are_sealed_at_rest_and_read_back_in_clear(
    engine: Engine, ring_file: Path
) -> None:
    seal_read_model(engine, FieldCipher(read_ring(ring_file)))
    case = make_case("S-1", reporter=Reporter(name=NAME, phone=PHONE, email="z@example.cn"))
    project_case(engine, case, [])
    remember(
        engine, case.id, "retry-1",
        RememberedAnswer(action="progress", fingerprint="f" * 64, status_code=200,
                         body=case_to_dict(case)),
        at=T0,
    )  # fmt: skip

    held = raw_rows(engine)
    for secret in (NAME, PHONE, "z@example.cn", "5678"):
        assert secret not in held
    assert "sealed:v1:" in held
    assert get_case(engine, case.id) == case
    answer = recall(engine, case.id, "retry-1")
    assert answer is not None and answer.body["reporter"]["phone"] == PHONE


def test_a_repeat_caller_is_found_by_the_phone_however_written(
    engine: Engine, ring_file: Path
) -> None:
    seal_read_model(engine, FieldCipher(read_ring(ring_file)))
    first = make_case("S-1", reporter=Reporter(name=NAME, phone=PHONE))
    again = make_case(
        "S-2", created_at=T0.replace(hour=3), reporter=Reporter(name=NAME, phone=PHONE)
    )
    other = make_case("S-3", reporter=Reporter(name="李四", phone="13900000000"))
    for case in (first, again, other):
        project_case(engine, case, [])
    for asked in (PHONE, "138-1234-5678", "138 1234 5678"):
        found, total = list_cases(engine, caller=asked, now=NOW)
        assert [c.external_id for c in found] == ["S-2", "S-1"] and total == 2
    assert list_cases(engine, caller="13700000000", now=NOW) == ([], 0)


def test_after_rotation_old_rows_open_new_ones_use_the_new_key_and_lookups_hold(
    engine: Engine, ring_file: Path
) -> None:
    seal_read_model(engine, FieldCipher(read_ring(ring_file)))
    project_case(engine, make_case("S-1", reporter=Reporter(name=NAME, phone=PHONE)), [])
    added = rotate_ring_file(ring_file)
    seal_read_model(engine, FieldCipher(read_ring(ring_file)))
    project_case(engine, make_case("S-2", reporter=Reporter(name=NAME, phone=PHONE)), [])
    found, _ = list_cases(engine, caller=PHONE, now=NOW)
    assert {c.external_id for c in found} == {"S-1", "S-2"}
    assert all(c.reporter.phone == PHONE for c in found)
    assert f"sealed:v1:{added.id}:" in raw_rows(engine)


def test_rows_from_before_sealing_are_read_as_they_are(engine: Engine, ring_file: Path) -> None:
    plain = make_case("S-1", reporter=Reporter(name=NAME, phone=PHONE))
    project_case(engine, plain, [])  # a plain read model (no ring yet)
    seal_read_model(engine, FieldCipher(read_ring(ring_file)))
    assert get_case(engine, plain.id) == plain


def test_sealing_is_deterministic_so_a_rebuild_matches(engine: Engine, ring_file: Path) -> None:
    seal_read_model(engine, FieldCipher(read_ring(ring_file)))
    case = make_case("S-1", reporter=Reporter(name=NAME, phone=PHONE))
    project_case(engine, case, [])
    first = raw_rows(engine)
    project_case(engine, case, [])
    assert raw_rows(engine) == first


def test_a_seal_from_another_ring_or_altered_does_not_open(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ours = FieldCipher(read_ring(ensure_ring_file(tmp_path / "a")))
    theirs = FieldCipher(read_ring(ensure_ring_file(tmp_path / "b")))
    sealed = theirs.seal(PHONE)
    with pytest.raises(UnreadableSealError, match="not in the ring") as caught:
        ours.open(sealed)
    assert PHONE not in str(caught.value)
    mine = ours.seal(PHONE)
    altered = mine[:-4] + ("AAAA" if not mine.endswith("AAAA") else "BBBB")
    with pytest.raises(UnreadableSealError, match="altered"):
        ours.open(altered)
    assert ours.seal("") == "" and ours.caller_hash("") is None
