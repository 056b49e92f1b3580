"""Signed audit bundles (SPEC §12): a case's history, its SHA-256, when, and a signature.

A bundle is one JSON document, written in a canonical form (keys sorted,
two-space indent, UTF-8, one final newline) so that **any** byte changed in
the file is detected:

- a file not in its canonical form (even re-indented) fails as edited;
- ``history_sha256`` is the SHA-256 of the history's compact canonical JSON:
  a changed, added or dropped event fails as the history edited;
- ``signature`` is the audit key's Ed25519 signature over the compact canonical
  JSON of every field but ``history`` and ``signature`` (so over the hash): a
  recomputed hash, an edited time or case id, or a signature taken from
  another bundle fails as not signed by the system's audit key.

The history inside is Temporal's history JSON (as ``audit export --history-only``
writes it), its payloads as Temporal holds them: sealed by the codec.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from grievance_flow.audit.signing import ALGORITHM, SigningKey, VerifyingKey

FORMAT = "grievance-flow/audit-bundle"
VERSION = 1


class BundleError(ValueError):
    """A bundle that does not verify; the message is the reason ``verify`` prints."""


def canonical(document: Any) -> str:
    """The form bundles are written in."""
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _compact(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def history_sha256(history: dict[str, Any]) -> str:
    """The SHA-256 (hex) of a history's compact canonical JSON."""
    return hashlib.sha256(_compact(history)).hexdigest()


def _signed_part(bundle: dict[str, Any]) -> bytes:
    return _compact({k: v for k, v in bundle.items() if k not in ("history", "signature")})


def is_bundle(document: Any) -> bool:
    """Whether a parsed JSON document is a bundle (rather than a bare history)."""
    return isinstance(document, dict) and document.get("format") == FORMAT


def make_bundle(
    history: dict[str, Any],
    *,
    case_id: str,
    run_id: str | None,
    exported_at: datetime,
    key: SigningKey,
) -> str:
    """The bundle of ``history`` (Temporal's JSON of it), signed, as file text."""
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "case_id": case_id,
        "run_id": run_id,
        "exported_at": exported_at.isoformat(),
        "events": len(history.get("events", [])),
        "history_sha256": history_sha256(history),
        "history": history,
    }
    bundle["signature"] = {
        "algorithm": ALGORITHM,
        "key_id": key.verifying.key_id,
        "value": base64.b64encode(key.sign(_signed_part(bundle))).decode(),
    }
    return canonical(bundle)


@dataclass(frozen=True)
class VerifiedBundle:
    """What a verified bundle says."""

    case_id: str
    exported_at: str
    key_id: str
    history: dict[str, Any]


def verify_bundle(text: str, keys: list[VerifyingKey]) -> VerifiedBundle:
    """Check a bundle's form, hash and signature against the system's audit ``keys``.

    Raises:
        BundleError: The first check that fails, as a sentence.
    """
    try:
        bundle = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleError(f"not JSON ({exc})") from None
    if not is_bundle(bundle):
        raise BundleError("not a signed audit bundle (a bare history has no signature)")
    if bundle.get("version") != VERSION:
        raise BundleError(f"unsupported bundle version {bundle.get('version')!r}")
    if text != canonical(bundle):
        raise BundleError("edited: the file is not byte for byte as it was exported")
    history = bundle.get("history")
    if not isinstance(history, dict):
        raise BundleError("no history in the bundle")
    if history_sha256(history) != bundle.get("history_sha256"):
        raise BundleError(
            "history edited: its SHA-256 is not the one recorded at export "
            f"({str(bundle.get('history_sha256'))[:16]}…)"
        )
    signature = bundle.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        raise BundleError(f"no {ALGORITHM} signature")
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
    except (binascii.Error, ValueError):
        raise BundleError("the signature is not base64") from None
    key_id = str(signature.get("key_id"))
    known = [key for key in keys if key.key_id == key_id]
    if not known:
        ids = ", ".join(key.key_id for key in keys) or "none given"
        raise BundleError(f"signed by {key_id}, which is not the system's audit key ({ids})")
    if not known[0].verifies(value, _signed_part(bundle)):
        raise BundleError(f"the signature does not verify with the audit key {key_id}")
    return VerifiedBundle(
        case_id=str(bundle.get("case_id")),
        exported_at=str(bundle.get("exported_at")),
        key_id=key_id,
        history=history,
    )
