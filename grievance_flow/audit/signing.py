"""The system's audit key: Ed25519, signing exported histories (SPEC §12).

``grievance up`` creates ``DIR/audit-key.pem`` (PKCS#8, mode 0600) on first
start; elsewhere ``GRIEVANCE_AUDIT_KEY`` names the file. Its public half is
published at ``GET /v1/audit/public-key``, and ``audit verify`` checks bundles
against it (or a public key given as a PEM file). A key's id is
``ed25519:`` and the first 16 hex digits of the SHA-256 of its raw public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

AUDIT_KEY_FILE = "audit-key.pem"
ALGORITHM = "Ed25519"


class AuditKeyError(ValueError):
    """An audit key file that cannot be used (the message names it, never the key)."""


def key_id_of(public: Ed25519PublicKey) -> str:
    """``ed25519:`` and 16 hex digits of the public key's SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class VerifyingKey:
    """A public audit key and its id."""

    public: Ed25519PublicKey
    key_id: str

    @classmethod
    def of(cls, public: Ed25519PublicKey) -> VerifyingKey:
        """The verifying key of ``public``."""
        return cls(public=public, key_id=key_id_of(public))

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is this key's over ``message``."""
        try:
            self.public.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def pem(self) -> str:
        """The public key as SubjectPublicKeyInfo PEM."""
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def raw_base64(self) -> str:
        """The 32 raw bytes of the public key, base64."""
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class SigningKey:
    """The private audit key."""

    private: Ed25519PrivateKey

    @property
    def verifying(self) -> VerifyingKey:
        """Its public half."""
        return VerifyingKey.of(self.private.public_key())

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature over ``message``."""
        return self.private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey({self.verifying.key_id})"


def read_signing_key(path: Path) -> SigningKey:
    """The audit key in a PEM file.

    Raises:
        AuditKeyError: Unreadable, or not an unencrypted Ed25519 private key.
    """
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditKeyError(f"cannot use audit key {path}: {type(exc).__name__}") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise AuditKeyError(f"audit key {path} is not an Ed25519 key")
    return SigningKey(loaded)


def read_verifying_key(path: Path) -> VerifyingKey:
    """A public key (PEM) or the public half of a private audit key file.

    Raises:
        AuditKeyError: Neither.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"PRIVATE KEY" in data:
        return read_signing_key(path).verifying
    try:
        loaded = serialization.load_pem_public_key(data)
    except ValueError:
        raise AuditKeyError(f"{path} is not a PEM public key") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise AuditKeyError(f"{path} is not an Ed25519 public key")
    return VerifyingKey.of(loaded)


def ensure_signing_key(path: Path) -> SigningKey:
    """The key at ``path``, created (0600) if there is none yet."""
    if path.exists():
        return read_signing_key(path)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_suffix(".pem.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    temporary.replace(path)
    return SigningKey(private)


def audit_key_path(configured: Path | None, data_dir: Path) -> Path:
    """``GRIEVANCE_AUDIT_KEY``, else the data dir's ``audit-key.pem``."""
    return configured if configured is not None else data_dir / AUDIT_KEY_FILE
