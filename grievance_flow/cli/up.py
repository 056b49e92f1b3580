"""``grievance up``: the whole system on one machine.

An embedded Temporal dev server persisted in the data dir, the API in this
process, N ``grievance worker`` processes beside it (``--workers N``, default
one per core beyond the first; :mod:`grievance_flow.cli.workers`), and a SQLite
read model in the data dir that all of them write (WAL and a busy timeout make
that safe: :func:`grievance_flow.store.engine.make_engine`). ``--workers 0``
runs the worker in this process instead, sharing its Temporal client (one
process, the least memory). SIGINT/SIGTERM stops the API, then drains the
workers, then stops the dev server, and exits 0; the next ``up`` on the same
dir carries on every open case.

``up`` supervises its parts: a dev server that dies is restarted on the same
ports and data (:mod:`grievance_flow.cli.supervision`), and so is a worker
process that dies. A dev server that dies too often or will not come back, a
worker process that keeps dying, or an in-process worker whose run ends with
an error stops everything and exits 1 with the reason on stderr. It never sits
serving 503.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable
from pathlib import Path

import uvicorn
from temporalio.client import Client

from grievance_flow.api.app import build_resources, create_app
from grievance_flow.archive.schedule import ensure_archive_schedule
from grievance_flow.audit.signing import AuditKeyError, audit_key_path, ensure_signing_key
from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.cli import event_loop
from grievance_flow.cli.devkeys import ensure_dev_keys
from grievance_flow.cli.devserver import DevServer, DevServerError, port_is_free
from grievance_flow.cli.signals import ApiStartError, QuietServer, serve_until, stop_on_signals
from grievance_flow.cli.supervision import DevServerSupervisor
from grievance_flow.cli.system import SystemInfo, write_system_file
from grievance_flow.cli.workers import WorkerChildren, child_environments, default_worker_count
from grievance_flow.codec.converter import converter_for
from grievance_flow.codec.encryption import EncryptionCodec
from grievance_flow.codec.keys import CodecKeyError, ensure_ring_file
from grievance_flow.codec.server import build_codec_app
from grievance_flow.logs import uvicorn_log_config
from grievance_flow.notify.notifier import Notifier, build_notifier
from grievance_flow.runtime import Domain, database_url, load_domain, open_database
from grievance_flow.settings import Settings
from grievance_flow.telemetry import MetricsPortError, install_runtime
from grievance_flow.worker import WorkerStoppedError, running_worker

CODEC_PATH = "/codec"
"""Where ``up`` serves the codec protocol beside the API, for the Web UI."""

log = logging.getLogger(__name__)

STOP_REQUESTS_PATIENCE = 5
"""Seconds in-flight API requests get to finish when ``up`` stops."""


def run_up(
    *,
    data_dir: Path | None,
    host: str,
    port: int,
    catalogue: Path | None,
    temporal_port: int,
    workers: int | None = None,
) -> int:
    """Run everything until SIGINT/SIGTERM; returns the exit code.

    Args:
        workers: Worker processes beside the API; None: :func:`default_worker_count`;
            0: the worker runs in this process.
    """
    settings = Settings()
    settings.data_dir = (data_dir or settings.data_dir).resolve()
    settings.temporal_address = f"127.0.0.1:{temporal_port}"
    if catalogue is not None:
        settings.catalogue = catalogue.resolve()  # the worker processes load it too
    count = default_worker_count() if workers is None else workers
    try:
        domain = load_domain(settings.catalogue, settings.calendar_overrides)
        notifier = build_notifier(settings)
        # Before any client. Worker metrics come from where the worker runs: this
        # process, or the worker processes (GRIEVANCE_METRICS_PORT P, P+1, ...).
        install_runtime(settings, serve_metrics=count == 0)
    except (CatalogueError, OSError, ValueError, MetricsPortError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not port_is_free(host, port):
        print(f"error: the API port {host}:{port} is already in use; use --port", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        event_loop.run(
            _up(
                settings,
                domain,
                notifier,
                host=host,
                port=port,
                temporal_port=temporal_port,
                workers=count,
            )
        )
    except (DevServerError, WorkerStoppedError, ApiStartError, CodecKeyError, AuditKeyError) as exc:
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
    workers: int,
) -> None:
    stop = stop_on_signals()
    if settings.codec_keys is None:
        # Payloads are encrypted from the first case on (SPEC §12); the worker
        # processes find the same ring in the data dir.
        ensure_ring_file(settings.data_dir)
    converter = converter_for(settings)
    # The key that signs exported histories (SPEC §12), made on first start.
    signing = ensure_signing_key(audit_key_path(settings.audit_key, settings.data_dir))
    ui_port = temporal_port + 1000
    codec = converter.payload_codec
    sealed = isinstance(codec, EncryptionCodec)
    server = DevServer(
        settings.data_dir,
        port=temporal_port,
        ui_port=ui_port,
        # The UI asks the API's /codec to decode; without a key there it gets
        # 401 and shows ciphertext, with an auditor's key (see README) clear text.
        ui_codec_endpoint=f"http://{host}:{port}{CODEC_PATH}" if sealed else None,
    )
    server.start()
    try:
        client = await server.connect(data_converter=converter)
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
        # Closed cases' signed bundles, every ten minutes (SPEC §12); kept as it is
        # when a later `up` finds it.
        await ensure_archive_schedule(client, task_queue=settings.task_queue)
        resources = build_resources(
            client,
            engine,
            domain,
            task_queue=settings.task_queue,
            webhook_allowed_hosts=settings.webhook_allowed_hosts,
            audit_key=signing.verifying,
        )
        app = create_app(resources=resources)
        if isinstance(codec, EncryptionCodec):
            origins = [f"http://127.0.0.1:{ui_port}", f"http://localhost:{ui_port}"]
            app.mount(CODEC_PATH, build_codec_app(codec, engine, ui_origins=origins))
        api = QuietServer(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="warning",
                log_config=uvicorn_log_config(settings.log_format),
                # A request waiting on a dead half would otherwise hold the stop up
                # for its whole 20 s; a cut request is retried by its client.
                timeout_graceful_shutdown=STOP_REQUESTS_PATIENCE,
            ),
            freeze_heap=True,
        )
        supervisor = DevServerSupervisor(server, client)
        try:
            if workers == 0:
                async with running_worker(
                    client, domain=domain, engine=engine, settings=settings, notifier=notifier
                ) as worker:
                    where = "in the API's process"
                    await _serve(
                        api, stop, [worker.failed(), supervisor.run()], server, keys_path, where
                    )
            else:
                await _serve_beside_children(
                    api, stop, supervisor, settings, server, client, keys_path, workers
                )
        finally:
            engine.dispose()
    finally:
        server.stop()
        log.info("stopped")


async def _serve_beside_children(
    api: QuietServer,
    stop: asyncio.Event,
    supervisor: DevServerSupervisor,
    settings: Settings,
    server: DevServer,
    client: Client,
    keys: Path,
    count: int,
) -> None:
    # What each `grievance worker` needs to join this system; the rest of up's
    # environment (webhook, cache, calendar settings) passes through unchanged.
    joining = {
        "TEMPORAL_ADDRESS": server.address,
        "TEMPORAL_NAMESPACE": client.namespace,
        "GRIEVANCE_TASK_QUEUE": settings.task_queue,
        "DATABASE_URL": database_url(settings),
        "GRIEVANCE_DATA_DIR": str(settings.data_dir),
    }
    if settings.catalogue is not None:
        joining["CATALOGUE"] = str(settings.catalogue)
    children = WorkerChildren.of(
        child_environments(os.environ, joining, count), client, stopping=stop
    )
    children.start()
    try:
        pids = ", ".join(map(str, children.pids))
        where = f"{count} processes (pids {pids})" if count > 1 else f"1 process (pid {pids})"
        await _serve(api, stop, [children.run(), supervisor.run()], server, keys, where)
    except DevServerError:
        await children.kill()  # no Temporal to drain to: do not wait on them
        raise
    finally:
        log.info("stopping: draining the worker processes")
        await children.stop()


async def _serve(
    api: QuietServer,
    stop: asyncio.Event,
    watch: list[Awaitable[object]],
    server: DevServer,
    keys: Path,
    workers: str,
) -> None:
    announce = asyncio.create_task(_announce(api, server, keys, workers))
    try:
        # Serve until a signal; dead workers or a dev server that cannot be
        # kept alive end it too (re-raised).
        await serve_until(api, stop, watch=watch)
    finally:
        announce.cancel()
        log.info("stopping: API down")


async def _announce(api: QuietServer, server: DevServer, keys: Path, workers: str) -> None:
    # uvicorn exposes only a flag for "started", no event to wait on.
    while not api.started:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    host, port = api.config.host, api.config.port
    print(
        "\n".join(
            [
                "grievance-flow is up",
                f"  API          http://{host}:{port}/v1",
                f"  API docs     http://{host}:{port}/docs",
                f"  Temporal UI  http://127.0.0.1:{server.ui_port}",
                f"  Temporal     {server.address}",
                f"  workers      {workers}",
                f"  dev keys     {keys}",
                "Ctrl-C stops it; the next 'grievance up' on the same data dir carries on.",
            ]
        ),
        flush=True,
    )
