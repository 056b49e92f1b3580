"""The catalogue file's JSON Schema, and the answer of ``GET /v1/catalogue`` as a file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from grievance_flow.api.calendar_schemas import CalendarCoveragePublic
from grievance_flow.catalogue import SLA_STAGES, Catalogue, parse_catalogue, to_data
from grievance_flow.catalogue.document import CatalogueDocument, SlaClassEntry, json_schema_text
from grievance_flow.deadlines import WorkingCalendar
from grievance_flow.deadlines.coverage import calendar_coverage

SCHEMA_FILE = Path(__file__).parents[2] / "catalogue.schema.json"


def test_the_committed_schema_is_the_generated_one() -> None:
    # Regenerate with: grievance catalogue schema > catalogue.schema.json
    assert SCHEMA_FILE.read_text("utf-8") == json_schema_text()


def test_the_schema_describes_every_section_and_refuses_unknown_keys() -> None:
    schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
    assert set(schema["properties"]) == set(CatalogueDocument.model_fields)
    assert set(schema["required"]) == {
        "version",
        "timezone",
        "units",
        "sla_classes",
        "categories",
        "policy",
    }
    objects = [schema, *schema["$defs"].values()]
    assert all(d.get("additionalProperties") is False for d in objects if d["type"] == "object")
    assert tuple(SlaClassEntry.model_fields) == SLA_STAGES


def test_the_shipped_catalogue_passes_the_document_models(default_data: dict[str, Any]) -> None:
    document = CatalogueDocument.model_validate(default_data)
    assert len(document.units) == len(default_data["units"])


def test_a_saved_catalogue_answer_loads_as_the_same_catalogue(catalogue: Catalogue) -> None:
    # What GET /v1/catalogue answers: the file's sections plus the calendar report.
    coverage = calendar_coverage(WorkingCalendar(catalogue.calendar_overrides), date(2026, 12, 1))
    answer = to_data(catalogue)
    answer["calendar"] = CalendarCoveragePublic.of(coverage).model_dump(mode="json")
    saved = json.loads(json.dumps(answer, ensure_ascii=False))
    assert parse_catalogue(saved, source="saved.json") == catalogue
