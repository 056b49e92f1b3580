"""Public sentences for Open311 updates, and what they never say."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from grievance_flow.catalogue.loader import load_catalogue
from grievance_flow.open311.notes import REDACTED, PublicNotes, redact
from grievance_flow.open311.status import request_status, update_status
from grievance_flow.workflows.contracts import (
    PUBLIC_EVENT_TYPES,
    Actor,
    Event,
    EventType,
    Outcome,
    Reporter,
    Role,
    Stage,
    Status,
)

NOTES = PublicNotes(load_catalogue(None))
REPORTER = Reporter(name="王秀英", phone="13812345678")


def event(kind: EventType, **data: object) -> Event:
    return Event(
        seq=1,
        type=kind,
        at=datetime(2026, 12, 3, tzinfo=UTC),
        actor=Actor(Role.UNIT, "grid-1"),
        stage=Stage.HANDLE,
        data=dict(data),
    )


def test_every_public_event_type_has_a_sentence() -> None:
    for kind in PUBLIC_EVENT_TYPES:
        sentence = NOTES.describe(event(kind, unit="grid-1"), REPORTER)
        assert sentence and sentence != kind.value


def test_units_are_named_as_the_catalogue_names_them() -> None:
    assert NOTES.describe(event(EventType.DISPATCHED, unit="grid-1")) == "已派至湖滨一网格办理"
    assert NOTES.describe(event(EventType.ACCEPTED, unit="nowhere")) == "承办单位已签收"


def test_staff_notes_lose_the_reporter_and_long_numbers() -> None:
    note = "已联系王秀英（13812345678），另一号码 010-6512 3456，明天上门"
    said = NOTES.describe(event(EventType.PROGRESS, note=note), REPORTER)
    assert "王秀英" not in said and "13812345678" not in said and "6512" not in said
    assert said.count(REDACTED) == 3 and said.endswith("明天上门")
    assert redact("门牌 12 号") == "门牌 12 号"  # short numbers stay


@pytest.mark.parametrize(
    ("stage", "outcome", "status"),
    [
        (Stage.CLASSIFY, None, "OPEN"),
        (Stage.ACCEPT, None, "OPEN"),
        (Stage.HANDLE, None, "IN_PROGRESS"),
        (Stage.RECHECK, None, "ACTION_SCHEDULED"),
        (Stage.CLOSED, Outcome.RESOLVED, "FIXED"),
        (Stage.CLOSED, Outcome.EXPLAINED, "NO_FURTHER_ACTION"),
        (Stage.CLOSED, Outcome.UNRESOLVABLE, "NO_FURTHER_ACTION"),
        (Stage.CLOSED, Outcome.UNRESOLVED, "NO_FURTHER_ACTION"),
        (Stage.CLOSED, Outcome.MERGED, "DUPLICATE"),
        (Stage.CLOSED, Outcome.REJECTED, "NOT_COUNCILS_RESPONSIBILITY"),
        (Stage.CLOSED, Outcome.WITHDRAWN, "CLOSED"),
    ],
)
def test_spec_9s_status_table(stage: Stage, outcome: Outcome | None, status: str) -> None:
    assert update_status(stage, outcome).value == status


def test_a_closed_case_needs_its_outcome() -> None:
    with pytest.raises(ValueError, match="outcome"):
        update_status(Stage.CLOSED, None)
    assert (request_status(Status.OPEN), request_status(Status.CLOSED)) == ("open", "closed")
