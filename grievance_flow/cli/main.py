"""The ``grievance`` command (SPEC §5)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from grievance_flow.workflows.contracts import Role


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grievance", description="grievance-flow: 12345 hotline case management on Temporal."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up", help="run everything on this machine: Temporal dev server, worker and API"
    )
    up.add_argument("--data-dir", type=Path, default=None, help="state directory (default ./data)")
    up.add_argument("--host", default="127.0.0.1", help="API host (default 127.0.0.1)")
    up.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    up.add_argument("--catalogue", type=Path, default=None, help="catalogue YAML (default bundled)")
    up.add_argument(
        "--temporal-port",
        type=int,
        default=7233,
        help="embedded Temporal frontend port (default 7233; the Web UI is this + 1000)",
    )

    commands.add_parser("worker", help="run a worker against TEMPORAL_ADDRESS and DATABASE_URL")

    api = commands.add_parser("api", help="serve the HTTP API against TEMPORAL_ADDRESS")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key and print it")
    create.add_argument(
        "--role",
        required=True,
        choices=[role.value for role in Role if role is not Role.SYSTEM],
    )
    create.add_argument("--unit", default=None, help="the unit id (role unit only)")
    create.add_argument("--label", default="", help="who the key is for")
    create.add_argument("--data-dir", type=Path, default=None)
    create.add_argument("--catalogue", type=Path, default=None)
    return parser


def _exit_skipping_finalization(code: int) -> NoReturn:
    """End a server command that has already shut down in order, without interpreter teardown.

    The Temporal client's Rust threads may still touch Python while CPython
    finalizes, which aborts the process ("PyGILState_Release ... must be
    current", SIGABRT; temporalio/sdk-python#300) and turns a clean stop into
    exit -6. Everything is stopped and flushed by now, so skip finalization.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Migrations announce every plugin at INFO; only their problems are news.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "up":
        from grievance_flow.cli.up import run_up

        _exit_skipping_finalization(
            run_up(
                data_dir=args.data_dir,
                host=args.host,
                port=args.port,
                catalogue=args.catalogue,
                temporal_port=args.temporal_port,
            )
        )
    if args.command == "worker":
        from grievance_flow.cli.serve import run_worker_command

        _exit_skipping_finalization(run_worker_command())
    if args.command == "api":
        from grievance_flow.cli.serve import run_api_command

        _exit_skipping_finalization(run_api_command(host=args.host, port=args.port))
    if args.command == "keys":
        from grievance_flow.cli.keys import create_key_command

        return create_key_command(
            role=Role(args.role),
            unit=args.unit,
            label=args.label,
            data_dir=args.data_dir,
            catalogue=args.catalogue,
        )
    raise AssertionError(args.command)  # argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
