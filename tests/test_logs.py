"""``GRIEVANCE_LOG_FORMAT=json``: one object per line, ``case_id`` on every line about a case."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from grievance_flow.logs import JsonFormatter, case_context, case_id_of, uvicorn_log_config


def record(message: str = "hello %s", *args: object, **extra: Any) -> logging.LogRecord:
    made = logging.LogRecord(
        "grievance_flow.test", logging.WARNING, __file__, 1, message, args, None
    )
    made.__dict__.update(extra)
    return made


def rendered(made: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(made)
    assert "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_a_line_has_time_level_logger_and_the_formatted_message() -> None:
    line = rendered(record("hello %s", "world"))
    assert line.keys() == {"ts", "level", "logger", "message"}
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING",
        "grievance_flow.test",
        "hello world",
    )
    assert line["ts"].endswith("+00:00")


def test_the_workflow_logger_extra_names_the_case() -> None:
    extra = {"workflow_id": "grievance-T-1", "workflow_type": "GrievanceWorkflow"}
    assert rendered(record(temporal_workflow=extra))["case_id"] == "grievance-T-1"


def test_an_activity_of_a_notice_delivery_names_its_case() -> None:
    extra = {"workflow_id": "notices-grievance-T-2:7", "activity_type": "send_notice"}
    assert rendered(record(temporal_activity=extra))["case_id"] == "grievance-T-2"
    assert case_id_of("notices-grievance-a:b:12") == "grievance-a:b"
    assert case_id_of("grievance-T-3") == "grievance-T-3"


def test_an_api_request_about_a_case_tags_its_lines() -> None:
    token = case_context.set("grievance-T-4")
    try:
        assert rendered(record())["case_id"] == "grievance-T-4"
        # An explicit extra wins over the request's case.
        assert rendered(record(case_id="grievance-T-5"))["case_id"] == "grievance-T-5"
    finally:
        case_context.reset(token)
    assert "case_id" not in rendered(record())


def test_a_traceback_stays_inside_the_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        made = record(exc_info=sys.exc_info())
    line = rendered(made)
    assert "ValueError: boom" in line["exception"]


def test_uvicorn_logs_through_ours_only_in_json() -> None:
    assert uvicorn_log_config("json") is None
    config = uvicorn_log_config("text")
    assert config is not None and "uvicorn.access" in config["loggers"]
