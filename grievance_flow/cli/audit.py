"""``grievance audit export | replay | show``: histories for auditors (SPEC §5, issue 5).

Each command returns its exit code: 0 done, 1 the audit found a problem (a
history that does not replay, a case that does not exist), 2 a usage error or
no reachable system.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.service import RPCError

from grievance_flow.audit.bundle import BundleError, canonical, make_bundle, verify_bundle
from grievance_flow.audit.export import CaseNotFoundError, fetch_case_history
from grievance_flow.audit.histories import (
    AuditError,
    history_files,
    history_from_json,
    load_history_file,
)
from grievance_flow.audit.live import fetch_histories, matching_runs
from grievance_flow.audit.render import render_timeline
from grievance_flow.audit.replay import ReplayVerdict, replay_file, replay_history
from grievance_flow.audit.signing import (
    AuditKeyError,
    SigningKey,
    VerifyingKey,
    audit_key_path,
    ensure_signing_key,
    read_signing_key,
    read_verifying_key,
)
from grievance_flow.audit.timeline import rebuild_from_history
from grievance_flow.cli.progress import ProgressBar
from grievance_flow.cli.system import SystemNotFoundError, connect, locate_system
from grievance_flow.codec.converter import converter_for, default_converter
from grievance_flow.codec.keys import CodecKeyError
from grievance_flow.settings import settings_for


def _error(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


async def _with_client(data_dir: Path | None, work: Callable[[Client], Awaitable[int]]) -> int:
    """Run ``work`` on a client for the located system; exit 2 if there is none."""
    try:
        settings, source = locate_system(data_dir)
        client = await connect(settings, source)
    except SystemNotFoundError as exc:
        return _error(str(exc), 2)
    try:
        return await work(client)
    except RPCError as exc:  # e.g. a malformed --query, or the server going away meanwhile
        return _error(f"Temporal refused the request: {exc.message}", 2)


# --- export ---------------------------------------------------------------------


def export_command(
    *, case_id: str, output: Path | None, data_dir: Path | None, history_only: bool = False
) -> int:
    """Write the case's history, as a signed bundle (SPEC §12) or bare, to ``output`` or stdout."""
    found: list[WorkflowHistory] = []
    key: list[SigningKey] = []

    async def export(client: Client) -> int:
        try:
            found.append(await fetch_case_history(client, case_id, lenient=True))
        except CaseNotFoundError as exc:
            return _error(str(exc), 1)
        return 0

    if not history_only:
        try:
            settings, _ = locate_system(data_dir)
        except SystemNotFoundError as exc:
            return _error(str(exc), 2)
        path = audit_key_path(settings.audit_key, settings.data_dir)
        try:
            key.append(read_signing_key(path))
        except AuditKeyError as exc:
            return _error(
                f"{exc}: a signed export needs the system's audit key (GRIEVANCE_AUDIT_KEY, "
                "or the data dir 'grievance up' made); --history-only writes it unsigned",
                2,
            )
    code = asyncio.run(_with_client(data_dir, export))
    if code != 0:
        return code
    (history,) = found
    document = history.to_json_dict()
    if history_only:
        # Sorted keys: protobuf writes map entries in no fixed order, and the same
        # history should export to the same bytes (an auditor may checksum it).
        text = canonical(document)
    else:
        text = make_bundle(
            document,
            case_id=history.workflow_id or case_id,
            run_id=history.run_id if history.events else None,
            exported_at=datetime.now(UTC),
            key=key[0],
        )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")
        what = "history" if history_only else f"signed bundle ({key[0].verifying.key_id})"
        print(f"wrote {output}: {what}, {len(history.events)} events", file=sys.stderr)
    return 0


# --- key ------------------------------------------------------------------------


def key_command(*, keys_file: Path | None, data_dir: Path | None) -> int:
    """Make sure the audit key exists (0600); print its id and public PEM, never the key."""
    settings = settings_for(data_dir)
    path = keys_file or audit_key_path(settings.audit_key, settings.data_dir)
    try:
        existed = path.exists()
        verifying = ensure_signing_key(path).verifying
    except (AuditKeyError, OSError) as exc:
        return _error(str(exc), 2)
    print(f"{path}: {'kept' if existed else 'created'}, key id {verifying.key_id}")
    sys.stdout.write(verifying.pem())
    return 0


# --- verify ---------------------------------------------------------------------


def verify_command(*, paths: list[Path], data_dir: Path | None, public_key: Path | None) -> int:
    """Check each bundle's form, hash and signature, then replay it: ``OK`` / ``FAIL <reason>``."""
    settings = settings_for(data_dir)
    try:
        keys = [
            read_verifying_key(public_key or audit_key_path(settings.audit_key, settings.data_dir))
        ]
        files = list(history_files(paths))
        converter = _files_converter(data_dir)
    except (AuditKeyError, CodecKeyError) as exc:
        return _error(f"{exc} (give --public-key, or the system's --data-dir)", 2)
    except FileNotFoundError as exc:
        return _error(str(exc), 2)
    if not files:
        return _error("no *.json bundles under the given folders", 2)
    return asyncio.run(_verify(files, keys, converter))


async def _verify(files: list[Path], keys: list[VerifyingKey], converter: DataConverter) -> int:
    bar = ProgressBar(len(files))
    failed = 0
    bar.draw()
    for path in files:
        reason = None
        verified = None
        try:
            verified = verify_bundle(path.read_text("utf-8"), keys)
            history = history_from_json(verified.history, workflow_id=verified.case_id)
            verdict = await replay_history(str(path), history, data_converter=converter)
            reason = None if verdict.ok else f"replay: {verdict.failure}"
        except (OSError, UnicodeDecodeError) as exc:
            reason = f"cannot read it ({exc})"
        except (BundleError, AuditError) as exc:
            reason = str(exc)
        if reason is None and verified is not None:
            bar.advance(
                f"OK   {path} ({verified.case_id}, signed by {verified.key_id}, "
                f"exported {verified.exported_at})"
            )
        else:
            failed += 1
            bar.advance(f"FAIL {path}: {reason}")
    bar.finish()
    print(f"{len(files)} bundles: {len(files) - failed} verify, {failed} fail", file=sys.stderr)
    return 1 if failed else 0


# --- replay ---------------------------------------------------------------------


def replay_command(*, paths: list[Path], query: str | None, data_dir: Path | None) -> int:
    """Replay history files/folders and/or the live histories a query matches."""
    if not paths and query is None:
        return _error("give at least one history file or folder, or --query", 2)
    try:
        files = list(history_files(paths))
    except FileNotFoundError as exc:
        return _error(str(exc), 2)
    for folder in (path for path in paths if path.is_dir()):
        if not any(file.is_relative_to(folder) for file in files):
            return _error(f"no *.json histories under {folder}", 2)
    try:
        converter = _files_converter(data_dir)
    except CodecKeyError as exc:
        return _error(str(exc), 2)
    if query is None:
        return asyncio.run(_replay(files, None, None, converter))
    return asyncio.run(
        _with_client(data_dir, lambda client: _replay(files, client, query, converter))
    )


def _files_converter(data_dir: Path | None) -> DataConverter:
    """What decodes history files: the ring of ``--data-dir``, else the process's own."""
    if data_dir is None:
        return default_converter()
    return converter_for(settings_for(data_dir))


async def _replay(
    files: list[Path], client: Client | None, query: str | None, converter: DataConverter
) -> int:
    runs = await matching_runs(client, query) if client is not None and query else []
    if query is not None and not runs:
        print(f"no workflows match {query!r}", file=sys.stderr)
    bar = ProgressBar(len(files) + len(runs))
    verdicts: list[ReplayVerdict] = []

    def report(verdict: ReplayVerdict) -> None:
        verdicts.append(verdict)
        if verdict.ok:
            bar.advance(f"OK   {verdict.source} ({verdict.workflow_id or 'workflow id unknown'})")
        else:
            bar.advance(f"FAIL {verdict.source}: {verdict.failure}")

    bar.draw()
    for path in files:
        report(await replay_file(path, data_converter=converter))
    if client is not None:
        async for live in fetch_histories(client, runs):
            if live.history is None:
                report(ReplayVerdict(live.source, live.workflow_id, live.error))
            else:
                report(
                    await replay_history(
                        live.source, live.history, data_converter=client.data_converter
                    )
                )
    bar.finish()
    failed = sum(not verdict.ok for verdict in verdicts)
    print(
        f"{len(verdicts)} histories: {len(verdicts) - failed} replay, {failed} fail",
        file=sys.stderr,
    )
    return 1 if failed else 0


# --- show -----------------------------------------------------------------------


def show_command(*, target: str, data_dir: Path | None) -> int:
    """Print the case's timeline rebuilt from its history (a file, or fetched by case id)."""
    path = Path(target)
    if path.is_file():
        try:
            history = load_history_file(path)
        except AuditError as exc:
            return _error(f"{path}: {exc}", 1)
        try:
            converter = _files_converter(data_dir)
        except CodecKeyError as exc:
            return _error(str(exc), 2)
        return asyncio.run(_show(history, converter))

    async def fetch_and_show(client: Client) -> int:
        try:
            history = await fetch_case_history(client, target, lenient=True)
        except CaseNotFoundError as exc:
            return _error(f"{exc} (and no such history file)", 1)
        return await _show(history, client.data_converter)

    return asyncio.run(_with_client(data_dir, fetch_and_show))


async def _show(history: WorkflowHistory, converter: DataConverter) -> int:
    try:
        rebuilt = await rebuild_from_history(history, data_converter=converter)
    except AuditError as exc:
        return _error(str(exc), 1)
    if rebuilt is None:
        return _error("the history never recorded a projected state: nothing to show yet", 1)
    print(render_timeline(*rebuilt))
    return 0
