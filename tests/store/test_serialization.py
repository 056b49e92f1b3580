"""CaseView and Event survive the trip through JSON unchanged."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from grievance_flow.store.serialization import (
    case_from_dict,
    case_to_dict,
    event_to_dict,
)
from grievance_flow.workflows.contracts import Stage
from tests.store.factories import T0, make_case, make_events


@pytest.mark.parametrize("stage", [Stage.CLASSIFY, Stage.HANDLE, Stage.CLOSED])
def test_case_round_trips_through_json(stage: Stage) -> None:
    case = make_case(stage=stage)
    doc = json.loads(json.dumps(case_to_dict(case)))
    assert case_from_dict(doc) == case


def test_event_documents_are_plain_json() -> None:
    for event in make_events(5):
        doc = event_to_dict(event)
        assert json.loads(json.dumps(doc)) == doc
        assert doc["at"] == event.at.isoformat() and doc["type"] == event.type.value


def test_documents_hold_plain_values_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    case = make_case(created_at=T0.astimezone(beijing))
    doc = case_to_dict(case)
    assert doc["stage"] == "handle" and type(doc["stage"]) is str
    assert doc["created_at"] == "2026-03-02T01:00:00+00:00"
    assert doc["deadlines"]["handle"]["due_at"] == "2026-03-02T05:00:00+00:00"
    assert doc["reporter"] == {"name": "张三", "phone": "13812345678", "email": None}


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        case_to_dict(make_case(updated_at=datetime(2026, 3, 2, 9, 0)))


def test_related_cases_are_kept_and_older_documents_have_none() -> None:
    case = make_case(related_cases=["grievance-12345-0002", "grievance-12345-0003"])
    doc = json.loads(json.dumps(case_to_dict(case)))
    assert case_from_dict(doc) == case
    # A case projected before related cases existed still decodes.
    del doc["related_cases"]
    assert case_from_dict(doc).related_cases == []
