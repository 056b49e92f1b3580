"""The process's Temporal runtime: a worker's Prometheus endpoint, and the core's logs.

The Temporal SDK core serves its own metrics (``temporal_*``: polls, task
latencies, slots, sticky cache...) from the runtime a client is connected with.
The workflow records ``grievance_sla_events_total`` and
``grievance_clock_lateness_seconds`` through ``workflow.metric_meter()``
(:mod:`grievance_flow.workflows.sla_metrics`), which exports through the same
runtime, so one port per worker process serves all of them.

The core also writes its own warnings straight to stderr; with
``GRIEVANCE_LOG_FORMAT=json`` they are forwarded to the Python logger
``temporalio.core`` instead, so they are JSON lines like every other.

The runtime must exist before the process's one client: :func:`install_runtime`
makes it the SDK's default runtime, which every later ``Client.connect`` uses.
"""

from __future__ import annotations

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)

from grievance_flow.metric_names import CLOCK_LATENESS, CLOCK_LATENESS_BUCKETS
from grievance_flow.settings import Settings

CORE_LOGGER = "temporalio.core"
"""Where the SDK core's own log lines go when they are forwarded (JSON logs)."""


class MetricsPortError(RuntimeError):
    """The metrics endpoint could not be served (the port is taken, or the runtime exists)."""


def build_runtime(*, metrics_address: str | None, forward_logs: bool) -> Runtime:
    """A Temporal runtime, serving Prometheus at ``http://metrics_address/metrics`` if given.

    Durations are floating-point seconds (the Prometheus convention) and no
    unit suffix is added, so the SLA metrics keep exactly their SPEC §8 names.

    Raises:
        MetricsPortError: The address cannot be bound.
    """
    metrics = None
    if metrics_address is not None:
        metrics = PrometheusConfig(
            bind_address=metrics_address,
            durations_as_seconds=True,
            histogram_bucket_overrides={CLOCK_LATENESS: list(CLOCK_LATENESS_BUCKETS)},
        )
    logs = LoggingConfig.default
    if forward_logs:
        logs = LoggingConfig(
            filter=LoggingConfig.default.filter,
            forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
        )
    try:
        return Runtime(telemetry=TelemetryConfig(logging=logs, metrics=metrics))
    except Exception as exc:  # the core reports a bind failure as a plain exception
        raise MetricsPortError(f"cannot serve worker metrics on {metrics_address}: {exc}") from exc


def install_runtime(settings: Settings, *, serve_metrics: bool) -> str | None:
    """Make this process's runtime the SDK default, when the settings ask for one.

    Call before the first Temporal client of the process is connected. Without a
    metrics port (or with ``serve_metrics`` False, the API) and with text logs,
    the SDK's own default runtime is left alone.

    Returns:
        The bound metrics ``host:port``, or None when no metrics are served.

    Raises:
        MetricsPortError: The port cannot be bound, or a client already made the
            default runtime (its metrics would not be exported).
    """
    address = None
    if serve_metrics and settings.metrics_port is not None:
        address = f"{settings.metrics_host}:{settings.metrics_port}"
    forward_logs = settings.log_format == "json"
    if address is None and not forward_logs:
        return None
    runtime = build_runtime(metrics_address=address, forward_logs=forward_logs)
    try:
        Runtime.set_default(runtime, error_if_already_set=True)
    except RuntimeError as exc:
        raise MetricsPortError(
            "the Temporal runtime must be set up before the first client connects"
        ) from exc
    return address
