"""Reporters' names and phones sealed at rest in the read model (SPEC §12, issue 13).

The read model holds what the API lists and serves, so it holds the citizen's
name and phone: in the ``cases`` columns, in the ``doc`` it serves cases from,
and in the answers kept for ``Idempotency-Key`` retries. With a codec key ring
those are sealed with a key derived from the ring (HKDF-SHA256 per ring key):

- **AES-256-SIV**, deterministic under one key: the same phone seals to the
  same text, so a rebuilt read model is byte for byte the live one and a
  re-projection changes nothing; it reveals only that two values are equal,
  which the caller lookup below reveals anyway.
- The sealed text names its key (``sealed:v1:<key id>:<base64>``); the newest
  key seals, every key opens; a value without the prefix (a row written before
  sealing, or by a system without a ring) is read as it is.
- ``reporter_phone_hash`` is an HMAC-SHA256 of the phone's digits under a key
  derived from the ring's **first** key (kept forever, so the hash of one
  phone never changes with rotation): 重复来电 lookups without the phone in clear.

Which cipher an engine uses is decided once, where the process opens its
read model (:func:`grievance_flow.runtime.open_database`), and looked up by the
store functions from the engine they are given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import weakref
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine

from grievance_flow.codec.keys import CodecKeyRing

PREFIX = "sealed:v1:"
_SEALING_INFO = b"grievance-flow read model: reporter fields"
_LOOKUP_INFO = b"grievance-flow read model: caller lookup"
_NOT_DIGITS = re.compile(r"\D")


def _derive(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


class UnreadableSealError(ValueError):
    """A sealed value this ring cannot open (no value or key material in the message)."""


class FieldCipher:
    """Seals and opens reporter fields, and hashes phones for lookups."""

    def __init__(self, ring: CodecKeyRing) -> None:
        self._newest = ring.newest.id
        self._sivs = {key.id: AESSIV(_derive(key.secret, _SEALING_INFO, 64)) for key in ring.keys}
        self._lookup = _derive(ring.keys[0].secret, _LOOKUP_INFO, 32)

    def seal(self, text: str) -> str:
        """``text`` sealed under the newest key; an empty or already sealed text as it is."""
        if not text or text.startswith(PREFIX):
            return text
        sealed = self._sivs[self._newest].encrypt(text.encode("utf-8"), [self._newest.encode()])
        return f"{PREFIX}{self._newest}:{base64.b64encode(sealed).decode()}"

    def open(self, text: str) -> str:
        """A sealed text opened; any other text as it is.

        Raises:
            UnreadableSealError: Sealed by a key the ring lacks, or altered.
        """
        if not text.startswith(PREFIX):
            return text
        key_id, _, data = text[len(PREFIX) :].partition(":")
        siv = self._sivs.get(key_id)
        if siv is None:
            raise UnreadableSealError(
                f"a reporter field is sealed by key {key_id!r}, not in the ring"
            )
        try:
            return siv.decrypt(base64.b64decode(data, validate=True), [key_id.encode()]).decode()
        except Exception as exc:  # InvalidTag, bad base64: either way it was altered
            raise UnreadableSealError(
                f"a reporter field sealed by key {key_id!r} does not open: altered"
            ) from exc

    def caller_hash(self, phone: str) -> str | None:
        """The lookup hash of a phone (its digits only); None for a phone with no digits."""
        digits = _NOT_DIGITS.sub("", phone)
        if not digits:
            return None
        return hmac.new(self._lookup, digits.encode(), hashlib.sha256).hexdigest()


_CIPHERS: weakref.WeakKeyDictionary[Engine, FieldCipher] = weakref.WeakKeyDictionary()


def seal_read_model(engine: Engine, cipher: FieldCipher | None) -> Engine:
    """Make ``engine``'s store functions seal and open reporter fields with ``cipher``."""
    if cipher is None:
        _CIPHERS.pop(engine, None)
    else:
        _CIPHERS[engine] = cipher
    return engine


def cipher_of(engine: Engine) -> FieldCipher | None:
    """The cipher ``engine`` seals with, or None (a plain read model)."""
    return _CIPHERS.get(engine)


_REPORTER_FIELDS = ("name", "phone", "email")


def _reporter_with(doc: Mapping[str, Any], change: Any) -> dict[str, Any]:
    reporter = doc.get("reporter")
    if not isinstance(reporter, Mapping):
        return dict(doc)
    changed = {
        field: change(value) if field in _REPORTER_FIELDS and isinstance(value, str) else value
        for field, value in reporter.items()
    }
    return {**doc, "reporter": changed}


def seal_doc(doc: Mapping[str, Any], cipher: FieldCipher | None) -> dict[str, Any]:
    """A case document (or an answer holding one) with its reporter sealed."""
    return dict(doc) if cipher is None else _reporter_with(doc, cipher.seal)


def open_doc(doc: Mapping[str, Any], cipher: FieldCipher | None) -> dict[str, Any]:
    """A case document with its reporter opened (as it is without a cipher)."""
    return dict(doc) if cipher is None else _reporter_with(doc, cipher.open)
