"""A worker's Prometheus endpoint: Temporal's runtime telemetry, the SLA metrics included.

The Temporal SDK core serves its own metrics (``temporal_*``: polls, task
latencies, slots, sticky cache...) from the runtime a client is connected with.
The workflow records ``grievance_sla_events_total`` and
``grievance_clock_lateness_seconds`` through ``workflow.metric_meter()``
(:mod:`grievance_flow.workflows.sla_metrics`), which exports through the same
runtime, so one port per worker process serves all of them.

The runtime must exist before the process's one client: :func:`serve_worker_metrics`
makes it the SDK's default runtime, which every later ``Client.connect`` uses.
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from grievance_flow.metric_names import CLOCK_LATENESS, CLOCK_LATENESS_BUCKETS
from grievance_flow.settings import Settings


class MetricsPortError(RuntimeError):
    """The metrics endpoint could not be served (the port is taken, or the runtime exists)."""


def metrics_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime serving Prometheus metrics at ``http://bind_address/metrics``.

    Durations are floating-point seconds (the Prometheus convention) and no
    unit suffix is added, so the SLA metrics keep exactly their SPEC §8 names.

    Raises:
        MetricsPortError: The address cannot be bound.
    """
    prometheus = PrometheusConfig(
        bind_address=bind_address,
        durations_as_seconds=True,
        histogram_bucket_overrides={CLOCK_LATENESS: list(CLOCK_LATENESS_BUCKETS)},
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
    except Exception as exc:  # the core reports a bind failure as a plain exception
        raise MetricsPortError(f"cannot serve worker metrics on {bind_address}: {exc}") from exc


def serve_worker_metrics(settings: Settings) -> str | None:
    """Serve this process's metrics on ``GRIEVANCE_METRICS_PORT``, if it is set.

    Call before the first Temporal client of the process is connected.

    Returns:
        The bound ``host:port``, or None when no port is set.

    Raises:
        MetricsPortError: The port cannot be bound, or a client already made the
            default runtime (its metrics would not be exported).
    """
    if settings.metrics_port is None:
        return None
    address = f"{settings.metrics_host}:{settings.metrics_port}"
    runtime = metrics_runtime(address)
    try:
        Runtime.set_default(runtime, error_if_already_set=True)
    except RuntimeError as exc:
        raise MetricsPortError(
            "worker metrics must be set up before the first Temporal client connects"
        ) from exc
    return address
