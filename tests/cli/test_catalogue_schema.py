"""``grievance catalogue schema`` prints the catalogue file's JSON Schema."""

from __future__ import annotations

import json

import pytest

from grievance_flow.catalogue.document import json_schema_text
from grievance_flow.cli.main import main


def test_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == json_schema_text()
    assert json.loads(printed)["title"] == "grievance-flow catalogue"
