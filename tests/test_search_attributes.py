"""The search-attribute list: SPEC §8's names and types, nothing personal."""

from grievance_flow import search_attributes


def test_the_spec_names_and_types() -> None:
    assert search_attributes.registrations() == {
        "GrievanceStage": "Keyword",
        "GrievanceUnit": "Keyword",
        "GrievanceCategory": "Keyword",
        "GrievanceChannel": "Keyword",
        "GrievanceDueAt": "Datetime",
        "GrievanceOverdue": "Bool",
        "GrievanceSupervised": "Bool",
    }
