"""``grievance codec rotate`` and ``grievance codec-server`` (SPEC §12)."""

from __future__ import annotations

import sys
from pathlib import Path

from grievance_flow.codec.converter import settings_ring
from grievance_flow.codec.encryption import EncryptionCodec
from grievance_flow.codec.keys import (
    CODEC_KEYS_FILE,
    CodecKeyError,
    ensure_ring_at,
    read_ring,
    rotate_ring_file,
)
from grievance_flow.codec.server import build_codec_app
from grievance_flow.runtime import open_database
from grievance_flow.settings import Settings, settings_for

DEFAULT_PORT = 8081
DEFAULT_UI_ORIGINS = ("http://127.0.0.1:8233", "http://localhost:8233")
"""The dev server's Web UI with ``up``'s default Temporal port (7233 + 1000)."""


def _settings(data_dir: Path | None) -> Settings:
    settings = settings_for(data_dir)
    return settings


def _ring_path(settings: Settings, keys_file: Path | None) -> Path | None:
    """The ring file a command works on, or None when the environment holds the ring itself."""
    configured = settings.codec_keys.get_secret_value() if settings.codec_keys else None
    if keys_file is not None:
        return keys_file
    if configured and configured.lstrip().startswith("{"):
        return None
    return Path(configured) if configured else settings.data_dir / CODEC_KEYS_FILE


def init_command(*, data_dir: Path | None, keys_file: Path | None) -> int:
    """Create the ring file if it is missing (compose's one-shot); keep an existing one."""
    path = _ring_path(settings_for(data_dir), keys_file)
    if path is None:
        print("GRIEVANCE_CODEC_KEYS holds the ring itself: nothing to create")
        return 0
    try:
        existed = path.exists()
        ring = read_ring(ensure_ring_at(path))
    except (CodecKeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ids = ", ".join(key.id for key in ring.keys)
    print(f"{path}: {'kept' if existed else 'created'}, keys {ids}")
    return 0


def rotate_command(*, data_dir: Path | None, keys_file: Path | None) -> int:
    """Append a new key to the ring file; it encrypts once the processes restart."""
    path = _ring_path(settings_for(data_dir), keys_file)
    if path is None:
        print(
            "error: GRIEVANCE_CODEC_KEYS holds the ring itself; rotate it where it is kept, "
            "or give --file",
            file=sys.stderr,
        )
        return 2
    try:
        key = rotate_ring_file(path)
    except CodecKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: added key {key.id}; new payloads use it once the processes restart")
    return 0


def codec_server_command(
    *, host: str, port: int, data_dir: Path | None, ui_origins: list[str] | None
) -> int:
    """Serve ``/encode`` and ``/decode`` with the system's ring until interrupted."""
    import uvicorn

    settings = settings_for(data_dir)
    try:
        ring = settings_ring(settings)
    except CodecKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if ring is None:
        print(
            f"error: no codec key ring: set GRIEVANCE_CODEC_KEYS or run 'grievance up' "
            f"on {settings.data_dir} first (it creates {CODEC_KEYS_FILE})",
            file=sys.stderr,
        )
        return 2
    engine = open_database(settings)
    try:
        app = build_codec_app(
            EncryptionCodec(ring), engine, ui_origins=list(ui_origins or DEFAULT_UI_ORIGINS)
        )
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        engine.dispose()
    return 0
