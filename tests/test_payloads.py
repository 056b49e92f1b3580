"""The data converter: pydantic's JSON, with one set of validators per process."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.converter import CompositePayloadConverter

from grievance_flow.payloads import DATA_CONVERTER
from grievance_flow.workflows.contracts import DeadlineInput, Stage


def test_every_workflow_instance_decodes_with_the_process_wide_json_converter() -> None:
    # The worker calls payload_converter_class() for every case it loads; each
    # used to build (and keep) its own validator for every type it decoded.
    first = DATA_CONVERTER.payload_converter_class()
    second = DATA_CONVERTER.payload_converter_class()
    assert isinstance(first, CompositePayloadConverter)
    assert isinstance(second, CompositePayloadConverter)

    assert first.converters[b"json/plain"] is second.converters[b"json/plain"]


def test_a_payload_written_by_one_instance_decodes_in_another() -> None:
    value = DeadlineInput(
        case_id="C-1",
        stage=Stage.CLASSIFY,
        started_at=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        category="noise",
        urgent=False,
        clock=None,
    )
    [payload] = DATA_CONVERTER.payload_converter_class().to_payloads([value])

    [decoded] = DATA_CONVERTER.payload_converter_class().from_payloads([payload], [DeadlineInput])

    assert decoded == value
    assert payload.metadata["encoding"] == b"json/plain"
