"""The metric names of SPEC §8, their README table, and what an action's status counts as."""

from __future__ import annotations

from pathlib import Path

import pytest

from grievance_flow import metric_names
from grievance_flow.metric_names import ActionResult, action_result

README = Path(__file__).resolve().parent.parent / "README.md"

SPEC_NAMES = {
    "grievance_http_requests_total",
    "grievance_http_request_duration_seconds",
    "grievance_actions_total",
    "grievance_sla_events_total",
    "grievance_clock_lateness_seconds",
}


def test_the_module_defines_exactly_the_spec_names() -> None:
    defined = {
        value
        for name, value in vars(metric_names).items()
        if name.isupper() and isinstance(value, str) and value.startswith("grievance_")
    }
    assert defined == SPEC_NAMES


def test_the_readme_table_lists_every_metric() -> None:
    text = README.read_text("utf-8")
    for name in SPEC_NAMES:
        assert f"| `{name}" in text, f"README has no table row for {name}"


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, ActionResult.OK),
        (403, ActionResult.REFUSED),
        (422, ActionResult.REFUSED),
        (404, ActionResult.NOT_FOUND),
        (409, ActionResult.CONFLICT),
        (503, ActionResult.UNAVAILABLE),
    ],
)
def test_an_action_status_counts_as_its_result(status: int, result: ActionResult) -> None:
    assert action_result(status) is result
