"""The Replayer every audit command uses: the current GrievanceWorkflow, quietly.

When a replay fails, the SDK core also logs the failing workflow task as a
warning on stderr; for an audit that failure *is* the answer, reported once on
its own line, so the replayer runs on a runtime that logs core errors only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from temporalio.converter import DataConverter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Interceptor, Replayer
from temporalio.workflow import NondeterminismError

from grievance_flow.codec.converter import default_converter
from grievance_flow.workflows.grievance import GrievanceWorkflow

# Core failures arrive as a Rust debug dump; the human sentence is its message field.
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


@cache
def _quiet_runtime() -> Runtime:
    # One per process: every runtime owns a thread pool.
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )


def grievance_replayer(
    *, interceptors: Sequence[Interceptor] = (), data_converter: DataConverter | None = None
) -> Replayer:
    """A replayer for the current workflow code, with ``interceptors`` installed.

    ``data_converter`` decodes the history's payloads (a client's, with its
    codec); None: the process's own (:func:`default_converter`), which reads
    encrypted histories when the process has the ring and plain ones always.
    """
    return Replayer(
        workflows=[GrievanceWorkflow],
        interceptors=interceptors,
        runtime=_quiet_runtime(),
        data_converter=data_converter or default_converter(),
    )


def describe_replay_failure(failure: BaseException) -> str:
    """One line saying why a history did not replay.

    Nondeterminism (the code no longer makes the commands the history recorded)
    is named as such; other failures (a history that is out of order, a payload
    the code cannot decode) keep the SDK's own sentence.
    """
    text = str(failure)
    found = _CORE_MESSAGE.search(text)
    message = _unescape(found.group(1)) if found else text
    message = " ".join(message.split()) or type(failure).__name__
    if isinstance(failure, NondeterminismError) and "nondeterminism" not in message.lower():
        return f"nondeterminism: {message}"
    return message


def _unescape(debug_text: str) -> str:
    # Rust's Debug escapes quotes, backslashes and control characters only; a
    # codec-based unescape would garble the non-ASCII text around them.
    return re.sub(r"\\(.)", lambda match: {"n": " ", "t": " "}.get(match[1], match[1]), debug_text)
