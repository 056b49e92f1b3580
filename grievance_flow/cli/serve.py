"""``grievance worker`` and ``grievance api``: the two halves, for external clusters."""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn

from grievance_flow.api.app import create_app
from grievance_flow.cli.signals import QuietServer, serve_until, stop_on_signals
from grievance_flow.settings import Settings
from grievance_flow.worker import WorkerStoppedError, run_worker

log = logging.getLogger(__name__)


def run_worker_command() -> int:
    """Run a worker until SIGINT/SIGTERM."""

    async def main() -> None:
        stop = stop_on_signals()
        await run_worker(Settings(), stop=stop)

    try:
        asyncio.run(main())
    except WorkerStoppedError as exc:
        # Said plainly and non-zero, so a supervisor (systemd, compose) restarts it.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    log.info("worker stopped")
    return 0


def run_api_command(*, host: str, port: int) -> int:
    """Serve the API until SIGINT/SIGTERM."""

    async def main() -> None:
        stop = stop_on_signals()
        config = uvicorn.Config(create_app(Settings()), host=host, port=port, log_level="info")
        await serve_until(QuietServer(config), stop)

    asyncio.run(main())
    return 0
