"""``grievance up``: the whole system on one machine.

An embedded Temporal dev server persisted in the data dir, the worker and the
API in this process (sharing one Temporal client), and a SQLite read model in
the data dir. SIGINT/SIGTERM stops the API, then the worker, then the dev server,
and exits 0; the next ``up`` on the same dir carries on every open case.

``up`` supervises its halves: a dev server that dies is restarted on the same
ports and data (:mod:`grievance_flow.cli.supervision`); one that dies too often
or will not come back, or a worker whose run ends with an error, stops
everything and exits 1 with the reason on stderr. It never sits serving 503.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import uvicorn

from grievance_flow.api.app import build_resources, create_app
from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.cli.devkeys import ensure_dev_keys
from grievance_flow.cli.devserver import DevServer, DevServerError, port_is_free
from grievance_flow.cli.signals import ApiStartError, QuietServer, serve_until, stop_on_signals
from grievance_flow.cli.supervision import DevServerSupervisor
from grievance_flow.cli.system import SystemInfo, write_system_file
from grievance_flow.logs import uvicorn_log_config
from grievance_flow.notify.notifier import Notifier, build_notifier
from grievance_flow.runtime import Domain, load_domain, open_database
from grievance_flow.settings import Settings
from grievance_flow.telemetry import MetricsPortError, install_runtime
from grievance_flow.worker import WorkerStoppedError, running_worker

log = logging.getLogger(__name__)

STOP_REQUESTS_PATIENCE = 5
"""Seconds in-flight API requests get to finish when ``up`` stops."""


def run_up(
    *, data_dir: Path | None, host: str, port: int, catalogue: Path | None, temporal_port: int
) -> int:
    """Run everything until SIGINT/SIGTERM; returns the exit code."""
    settings = Settings()
    settings.data_dir = (data_dir or settings.data_dir).resolve()
    settings.temporal_address = f"127.0.0.1:{temporal_port}"
    try:
        domain = load_domain(catalogue or settings.catalogue, settings.calendar_overrides)
        notifier = build_notifier(settings)
        install_runtime(settings, serve_metrics=True)  # before any client
    except (CatalogueError, OSError, ValueError, MetricsPortError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not port_is_free(host, port):
        print(f"error: the API port {host}:{port} is already in use; use --port", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(
            _up(
                settings,
                domain,
                notifier,
                host=host,
                port=port,
                temporal_port=temporal_port,
            )
        )
    except (DevServerError, WorkerStoppedError, ApiStartError) as exc:
        # The reason a supervisor would want, on stderr and as the last line of the log.
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


async def _up(
    settings: Settings,
    domain: Domain,
    notifier: Notifier,
    *,
    host: str,
    port: int,
    temporal_port: int,
) -> None:
    stop = stop_on_signals()
    server = DevServer(settings.data_dir, port=temporal_port, ui_port=temporal_port + 1000)
    server.start()
    try:
        client = await server.connect()
        await server.keep_histories(client)
        # Lets `grievance audit` and `projection rebuild` find this system via --data-dir.
        write_system_file(
            settings.data_dir,
            SystemInfo(
                temporal_address=server.address,
                namespace=client.namespace,
                task_queue=settings.task_queue,
                api=f"http://{host}:{port}",
            ),
        )
        engine = open_database(settings)
        keys_path = ensure_dev_keys(settings.data_dir, engine, domain.catalogue)
        resources = build_resources(client, engine, domain, task_queue=settings.task_queue)
        api = QuietServer(
            uvicorn.Config(
                create_app(resources=resources),
                host=host,
                port=port,
                log_level="warning",
                log_config=uvicorn_log_config(settings.log_format),
                # A request waiting on a dead half would otherwise hold the stop up
                # for its whole 20 s; a cut request is retried by its client.
                timeout_graceful_shutdown=STOP_REQUESTS_PATIENCE,
            )
        )
        supervisor = DevServerSupervisor(server, client)
        try:
            async with running_worker(
                client, domain=domain, engine=engine, settings=settings, notifier=notifier
            ) as worker:
                announce = asyncio.create_task(_announce(api, host, port, server, keys_path))
                try:
                    # Serve until a signal; a dead worker or a dev server that
                    # cannot be kept alive ends it too (re-raised below).
                    await serve_until(api, stop, watch=[worker.failed(), supervisor.run()])
                finally:
                    announce.cancel()
                    log.info("stopping: API down, draining the worker")
        finally:
            engine.dispose()
    finally:
        server.stop()
        log.info("stopped")


async def _announce(api: QuietServer, host: str, port: int, server: DevServer, keys: Path) -> None:
    # uvicorn exposes only a flag for "started", no event to wait on.
    while not api.started:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    print(
        "\n".join(
            [
                "grievance-flow is up",
                f"  API          http://{host}:{port}/v1",
                f"  API docs     http://{host}:{port}/docs",
                f"  Temporal UI  http://127.0.0.1:{server.ui_port}",
                f"  Temporal     {server.address}",
                f"  dev keys     {keys}",
                "Ctrl-C stops it; the next 'grievance up' on the same data dir carries on.",
            ]
        ),
        flush=True,
    )
