"""``grievance worker`` and ``grievance api``: the two halves, for external clusters."""

from __future__ import annotations

import logging
import sys

import uvicorn

from grievance_flow.api.app import create_app
from grievance_flow.cli import event_loop
from grievance_flow.cli.signals import QuietServer, serve_until, stop_on_signals
from grievance_flow.logs import uvicorn_log_config
from grievance_flow.settings import Settings
from grievance_flow.telemetry import MetricsPortError, install_runtime
from grievance_flow.worker import WorkerStoppedError, run_worker

log = logging.getLogger(__name__)


def run_worker_command(*, metrics_port: int | None = None) -> int:
    """Run a worker until SIGINT/SIGTERM; ``metrics_port`` overrides ``GRIEVANCE_METRICS_PORT``."""
    settings = Settings()
    if metrics_port is not None:
        settings.metrics_port = metrics_port

    async def main() -> None:
        stop = stop_on_signals()
        await run_worker(settings, stop=stop)

    try:
        event_loop.run(main())
    except (WorkerStoppedError, MetricsPortError) as exc:
        # Said plainly and non-zero, so a supervisor (systemd, compose) restarts it.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    log.info("worker stopped")
    return 0


def run_api_command(*, host: str, port: int) -> int:
    """Serve the API until SIGINT/SIGTERM."""

    settings = Settings()
    # No worker metrics here (the API has /metrics); JSON logs forward the core's lines.
    install_runtime(settings, serve_metrics=False)

    async def main() -> None:
        stop = stop_on_signals()
        config = uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_level="info",
            log_config=uvicorn_log_config(settings.log_format),
        )
        await serve_until(QuietServer(config, freeze_heap=True), stop)

    event_loop.run(main())
    return 0
