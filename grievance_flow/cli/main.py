"""The ``grievance`` command (SPEC §5)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from grievance_flow.logs import LogFormat, configure_logging
from grievance_flow.settings import Settings
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
    up.add_argument(
        "--workers",
        type=_count,
        default=None,
        metavar="N",
        help="worker processes beside the API (default: one per core beyond the first, "
        "at least 1; 0: the worker runs in the API's process)",
    )

    worker = commands.add_parser(
        "worker", help="run a worker against TEMPORAL_ADDRESS and DATABASE_URL"
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="P",
        help="serve Prometheus metrics on port P (default GRIEVANCE_METRICS_PORT; unset: none)",
    )

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
    create.add_argument(
        "--holder",
        "--label",
        dest="holder",
        default=None,
        help="who the key is issued to (a person or desk), recorded with every action; "
        "default: the login issuing it (SPEC §5's form without --holder keeps working)",
    )
    create.add_argument("--data-dir", type=Path, default=None)
    create.add_argument("--catalogue", type=Path, default=None)
    listing = key_commands.add_parser("list", help="every key: id, role, unit, holder, state")
    listing.add_argument("--data-dir", type=Path, default=None)
    revoke = key_commands.add_parser("revoke", help="revoke a key: refused from its next request")
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.add_argument("--data-dir", type=Path, default=None)
    catalogue = commands.add_parser("catalogue", help="the dispatch catalogue's file format")
    catalogue_commands = catalogue.add_subparsers(
        dest="catalogue_command", required=True, metavar="ACTION"
    )
    catalogue_commands.add_parser(
        "schema", help="print the JSON Schema of a catalogue file (catalogue.schema.json)"
    )
    codec = commands.add_parser("codec", help="the payload codec's key ring")
    codec_commands = codec.add_subparsers(dest="codec_command", required=True, metavar="ACTION")
    init = codec_commands.add_parser(
        "init", help="create the key ring file if it is missing (keeps an existing one)"
    )
    init.add_argument("--data-dir", type=Path, default=None)
    init.add_argument(
        "--file", type=Path, default=None, help="the ring file (default: DIR/codec-keys.json)"
    )
    rotate = codec_commands.add_parser(
        "rotate", help="add a key to the ring: new payloads use it, old ones stay readable"
    )
    rotate.add_argument("--data-dir", type=Path, default=None)
    rotate.add_argument(
        "--file", type=Path, default=None, help="the ring file (default: DIR/codec-keys.json)"
    )
    codec_server = commands.add_parser(
        "codec-server", help="serve /encode and /decode to the Temporal Web UI and CLI"
    )
    codec_server.add_argument("--host", default="127.0.0.1")
    codec_server.add_argument("--port", type=int, default=8081)
    codec_server.add_argument("--data-dir", type=Path, default=None)
    codec_server.add_argument(
        "--ui-origin",
        action="append",
        default=None,
        help="an origin the Web UI is served from (repeatable; default the dev server's UI)",
    )
    report = commands.add_parser(
        "report", help="the month's KPI table per unit (CSV or XLSX) for the monthly report"
    )
    report.add_argument("--month", default=None, help="YYYY-MM (default: the current month)")
    report.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="report.csv or report.xlsx (default: CSV on stdout)",
    )
    report.add_argument("--data-dir", type=Path, default=None)
    report.add_argument("--catalogue", type=Path, default=None)
    _add_audit_parsers(commands)
    return parser


def _count(text: str) -> int:
    """A whole number of at least 0, for argparse."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of at least 0: {text!r}")
    return int(text)


def _add_audit_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    system_help = (
        "the running 'grievance up' data dir (default ./data or GRIEVANCE_DATA_DIR; "
        "without it, TEMPORAL_ADDRESS names an external cluster)"
    )
    audit = commands.add_parser("audit", help="export, replay and show workflow histories")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    export = audit_commands.add_parser(
        "export", help="write a case's history as a signed bundle (or, --history-only, bare)"
    )
    export.add_argument("case_id", metavar="ID", help="the case id (grievance-...)")
    export.add_argument("-o", "--output", type=Path, default=None, help="file (default stdout)")
    export.add_argument("--data-dir", type=Path, default=None, help=system_help)
    export.add_argument(
        "--history-only",
        action="store_true",
        help="Temporal's history JSON alone, unsigned (what the Temporal CLI and UI read)",
    )
    key = audit_commands.add_parser(
        "key", help="create the audit key if it is missing; print its id and public key"
    )
    key.add_argument("--file", type=Path, default=None, help="default: DIR/audit-key.pem")
    key.add_argument("--data-dir", type=Path, default=None)
    verify = audit_commands.add_parser(
        "verify", help="check signed bundles (form, SHA-256, signature), then replay them"
    )
    verify.add_argument("paths", metavar="PATH", type=Path, nargs="+", help="bundles or folders")
    verify.add_argument("--data-dir", type=Path, default=None, help=system_help)
    verify.add_argument(
        "--public-key",
        type=Path,
        default=None,
        help="the audit public key (PEM, as GET /v1/audit/public-key serves it); "
        "default: the data dir's audit key",
    )
    replay = audit_commands.add_parser(
        "replay", help="replay histories against the current workflow code"
    )
    replay.add_argument(
        "paths", metavar="PATH", type=Path, nargs="*", help="history files or folders of them"
    )
    replay.add_argument(
        "--query",
        default=None,
        help="also replay the live histories this visibility query matches, e.g. "
        "\"GrievanceUnit = 'comm-1' AND GrievanceStage = 'handle'\"",
    )
    replay.add_argument("--data-dir", type=Path, default=None, help=system_help)
    show = audit_commands.add_parser("show", help="a case's timeline rebuilt from its history")
    show.add_argument("target", metavar="ID|FILE", help="a case id or a history file")
    show.add_argument("--data-dir", type=Path, default=None, help=system_help)

    projection = commands.add_parser("projection", help="manage the read model")
    projection_commands = projection.add_subparsers(
        dest="projection_command", required=True, metavar="ACTION"
    )
    rebuild = projection_commands.add_parser(
        "rebuild", help="re-project every case from Temporal (idempotent)"
    )
    rebuild.add_argument("--data-dir", type=Path, default=None, help=system_help)


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


def _log_format() -> LogFormat:
    """``GRIEVANCE_LOG_FORMAT``; text if the settings do not parse (the command says why)."""
    try:
        return Settings().log_format
    except ValidationError:
        return "text"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code.

    Args:
        argv: The arguments; None (the console script) reads ``sys.argv``, and
            then the server, audit and projection commands end the process
            themselves rather than return.
    """
    args = _parser().parse_args(argv)
    configure_logging(_log_format())
    if args.command == "up":
        from grievance_flow.cli.up import run_up

        _exit_skipping_finalization(
            run_up(
                data_dir=args.data_dir,
                host=args.host,
                port=args.port,
                catalogue=args.catalogue,
                temporal_port=args.temporal_port,
                workers=args.workers,
            )
        )
    if args.command == "worker":
        from grievance_flow.cli.serve import run_worker_command

        _exit_skipping_finalization(run_worker_command(metrics_port=args.metrics_port))
    if args.command == "api":
        from grievance_flow.cli.serve import run_api_command

        _exit_skipping_finalization(run_api_command(host=args.host, port=args.port))
    if args.command == "keys":
        from grievance_flow.cli.keys import (
            create_key_command,
            default_holder,
            list_keys_command,
            revoke_command,
        )

        if args.keys_command == "list":
            return list_keys_command(data_dir=args.data_dir)
        if args.keys_command == "revoke":
            return revoke_command(key_id=args.key_id, data_dir=args.data_dir)
        return create_key_command(
            role=Role(args.role),
            unit=args.unit,
            label=args.holder if args.holder is not None else default_holder(),
            data_dir=args.data_dir,
            catalogue=args.catalogue,
        )
    if args.command == "codec":
        from grievance_flow.cli.codec import init_command, rotate_command

        if args.codec_command == "init":
            return init_command(data_dir=args.data_dir, keys_file=args.file)
        return rotate_command(data_dir=args.data_dir, keys_file=args.file)
    if args.command == "codec-server":
        from grievance_flow.cli.codec import codec_server_command

        return codec_server_command(
            host=args.host, port=args.port, data_dir=args.data_dir, ui_origins=args.ui_origin
        )
    if args.command == "report":
        from grievance_flow.cli.report import report_command

        return report_command(
            month=args.month, output=args.output, data_dir=args.data_dir, catalogue=args.catalogue
        )
    if args.command == "catalogue":
        from grievance_flow.catalogue.document import json_schema_text

        sys.stdout.write(json_schema_text())
        return 0
    if args.command in ("audit", "projection"):
        # A history that fails to replay is a result, reported on one line, not
        # a warning with a traceback from the SDK's worker machinery.
        sdk_log = logging.getLogger("temporalio")
        level = sdk_log.level
        sdk_log.setLevel(logging.CRITICAL)
        try:
            code = _run_audit(args)
        finally:
            sdk_log.setLevel(level)
        if argv is None:
            # Run as the console script, the process is ours: these commands leave
            # the client's and replayer's Rust threads behind, which crash CPython
            # finalization now and then (see _exit_skipping_finalization). An
            # in-process caller passes argv and gets the code back instead.
            _exit_skipping_finalization(code)
        return code
    raise AssertionError(args.command)  # argparse rejects unknown commands


def _run_audit(args: argparse.Namespace) -> int:
    if args.command == "projection":
        from grievance_flow.cli.projection import rebuild_command

        return rebuild_command(data_dir=args.data_dir)
    from grievance_flow.cli import audit

    if args.audit_command == "export":
        return audit.export_command(
            case_id=args.case_id,
            output=args.output,
            data_dir=args.data_dir,
            history_only=args.history_only,
        )
    if args.audit_command == "key":
        return audit.key_command(keys_file=args.file, data_dir=args.data_dir)
    if args.audit_command == "verify":
        return audit.verify_command(
            paths=args.paths, data_dir=args.data_dir, public_key=args.public_key
        )
    if args.audit_command == "replay":
        return audit.replay_command(paths=args.paths, query=args.query, data_dir=args.data_dir)
    return audit.show_command(target=args.target, data_dir=args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
