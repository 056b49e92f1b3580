"""The search-attribute values of a case, and the difference a SearchIndex upserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from grievance_flow import search_attributes as sa
from grievance_flow.workflows.case_file import CaseFile
from grievance_flow.workflows.contracts import Outcome, Stage, StageDeadline
from grievance_flow.workflows.visibility import SearchIndex, indexed_values
from tests.builders import HOTLINE, intake

NOW = datetime(2026, 9, 30, 9, 0, tzinfo=UTC)


def handled_case() -> CaseFile:
    file = CaseFile(intake(), NOW)
    file.case.category, file.case.unit = "city.street-vending", "grid-1"
    file.enter(Stage.HANDLE, NOW)
    file.set_deadline(
        StageDeadline(
            stage=Stage.HANDLE,
            sla_class="standard",
            started_at=NOW,
            due_at=NOW + timedelta(days=3),
            warn_at=NOW + timedelta(days=2),
            escalate_at=NOW + timedelta(days=4),
        )
    )
    return file


def test_the_values_are_every_attribute_and_no_personal_data() -> None:
    file = handled_case()
    values = {key.name: value for key, value in indexed_values(file.case, overdue=True)}
    assert values == {
        "GrievanceStage": "handle",
        "GrievanceUnit": "grid-1",
        "GrievanceCategory": "city.street-vending",
        "GrievanceChannel": "phone",
        "GrievanceDueAt": NOW + timedelta(days=3),
        "GrievanceOverdue": True,
        "GrievanceSupervised": False,
    }
    assert list(values) == [key.name for key in sa.ALL]


def test_an_index_upserts_what_changed_and_unsets_what_went() -> None:
    file = handled_case()
    index = SearchIndex()
    first = index.changes(indexed_values(file.case, overdue=False))
    assert {update.key.name for update in first} == {key.name for key in sa.ALL}
    index.upserted(first)
    assert index.changes(indexed_values(file.case, overdue=False)) == []

    file.close(Outcome.WITHDRAWN, HOTLINE, NOW)
    closing = index.changes(indexed_values(file.case, overdue=False))
    # Only what the close changed: the stage, and the deadline, which goes.
    assert {(update.key.name, update.value) for update in closing} == {
        ("GrievanceStage", "closed"),
        ("GrievanceDueAt", None),
    }
    index.upserted(closing)
    assert index.changes(indexed_values(file.case, overdue=False)) == []


def test_an_unset_value_is_not_upserted_on_a_new_case() -> None:
    file = CaseFile(intake(), NOW)
    updates = SearchIndex().changes(indexed_values(file.case, overdue=False))
    assert {update.key.name for update in updates} == {
        "GrievanceStage",
        "GrievanceChannel",
        "GrievanceOverdue",
        "GrievanceSupervised",
    }
