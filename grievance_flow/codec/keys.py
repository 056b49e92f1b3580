"""The codec key ring: AES-256 keys with ids, the newest encrypting, every one decrypting.

Kept as JSON, ``{"keys": [{"id", "key", "created_at"}, ...]}`` (``key``: 32
bytes, base64), newest last: in the data dir's ``codec-keys.json`` (created
by ``grievance up``, mode 0600), or given by ``GRIEVANCE_CODEC_KEYS`` (the
JSON itself, or the path of such a file; ``off`` for none). ``grievance codec rotate`` appends
a key: new payloads use it, old ones stay readable for as long as their key
stays in the ring, so keys are added, never removed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

CODEC_KEYS_FILE = "codec-keys.json"
KEY_BYTES = 32
"""AES-256."""


class CodecKeyError(ValueError):
    """A key ring that cannot be used; the message names the source and the entry."""


@dataclass(frozen=True)
class CodecKey:
    """One key of the ring: its id (written beside every payload it encrypts) and secret."""

    id: str
    secret: bytes
    created_at: str

    def __repr__(self) -> str:  # never print the secret
        return f"CodecKey(id={self.id!r}, created_at={self.created_at!r})"


@dataclass(frozen=True)
class CodecKeyRing:
    """Keys oldest first; the last one encrypts."""

    keys: tuple[CodecKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise CodecKeyError("a codec key ring needs at least one key")
        ids = [key.id for key in self.keys]
        if len(set(ids)) != len(ids):
            raise CodecKeyError(f"codec key ids must be unique, got {ids}")

    @property
    def newest(self) -> CodecKey:
        """The key new payloads are encrypted with."""
        return self.keys[-1]

    def find(self, key_id: str) -> CodecKey | None:
        """The key with this id, or None."""
        return next((key for key in self.keys if key.id == key_id), None)

    def to_json(self) -> str:
        """The ring as its file holds it."""
        entries = [
            {
                "id": key.id,
                "key": base64.b64encode(key.secret).decode(),
                "created_at": key.created_at,
            }
            for key in self.keys
        ]
        return json.dumps({"keys": entries}, indent=2) + "\n"


def new_key(existing: CodecKeyRing | None = None) -> CodecKey:
    """A fresh random key whose id is unique in ``existing``."""
    now = datetime.now(UTC)
    while True:
        key_id = f"k{now:%Y%m%d}-{secrets.token_hex(3)}"
        if existing is None or existing.find(key_id) is None:
            return CodecKey(
                id=key_id, secret=secrets.token_bytes(KEY_BYTES), created_at=now.isoformat()
            )


def parse_ring(text: str, *, source: str) -> CodecKeyRing:
    """Read a ring from its JSON.

    Raises:
        CodecKeyError: Not JSON, not the shape above, or a key not 32 bytes of base64.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CodecKeyError(f"codec keys from {source}: not JSON ({exc})") from None
    entries = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CodecKeyError(f'codec keys from {source}: expected {{"keys": [...]}} with a key')
    keys = []
    for index, entry in enumerate(entries):
        where = f"codec keys from {source}: keys[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise CodecKeyError(f"{where}: needs a non-empty string id")
        try:
            secret = base64.b64decode(str(entry.get("key", "")), validate=True)
        except (binascii.Error, ValueError):
            secret = b""
        if len(secret) != KEY_BYTES:
            raise CodecKeyError(f"{where} ({entry['id']}): key must be {KEY_BYTES} bytes, base64")
        keys.append(
            CodecKey(id=entry["id"], secret=secret, created_at=str(entry.get("created_at", "")))
        )
    try:
        return CodecKeyRing(tuple(keys))
    except CodecKeyError as exc:
        raise CodecKeyError(f"codec keys from {source}: {exc}") from None


def read_ring(path: Path) -> CodecKeyRing:
    """The ring in a file.

    Raises:
        CodecKeyError: The file cannot be read or is not a ring.
    """
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise CodecKeyError(f"cannot read codec keys {path}: {exc.strerror or exc}") from None
    return parse_ring(text, source=str(path))


PLAIN = "off"
"""``GRIEVANCE_CODEC_KEYS=off``: no encryption (to measure its cost, or where the
Temporal cluster is itself trusted with personal data)."""


def ring_from(configured: str | None, data_dir: Path) -> CodecKeyRing | None:
    """The process's ring: ``GRIEVANCE_CODEC_KEYS`` (JSON or a path; ``off``: none),
    else the data dir's file if there is one, else None (payloads stay plain).

    Raises:
        CodecKeyError: What is configured cannot be used.
    """
    if configured is not None and configured.strip().lower() == PLAIN:
        return None
    if configured is not None and configured.strip():
        if configured.lstrip().startswith("{"):
            return parse_ring(configured, source="GRIEVANCE_CODEC_KEYS")
        return read_ring(Path(configured))
    path = data_dir / CODEC_KEYS_FILE
    return read_ring(path) if path.exists() else None


def _write_private(path: Path, ring: CodecKeyRing) -> None:
    # Created 0600 before a byte is written, then renamed over: no reader ever
    # sees a half-written ring or a moment with looser permissions.
    temporary = path.with_suffix(".json.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(ring.to_json())
    os.chmod(temporary, 0o600)
    temporary.replace(path)


def ensure_ring_file(data_dir: Path) -> Path:
    """``DIR/codec-keys.json``: created with one key if missing, else checked and kept."""
    return ensure_ring_at(data_dir / CODEC_KEYS_FILE)


def ensure_ring_at(path: Path) -> Path:
    """A ring file at ``path``: created with one key if missing, else checked and kept."""
    if path.exists():
        read_ring(path)
        return path
    _write_private(path, CodecKeyRing((new_key(),)))
    return path


def rotate_ring_file(path: Path) -> CodecKey:
    """Append a new key to the ring in ``path`` and return it (it encrypts from now on).

    Running processes keep their ring until restarted; payloads they write with
    the old newest key stay readable by everyone.
    """
    ring = read_ring(path)
    key = new_key(ring)
    _write_private(path, CodecKeyRing((*ring.keys, key)))
    return key
