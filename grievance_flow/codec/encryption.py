"""The AES-256-GCM payload codec (SPEC §12), on the ``cryptography`` package.

Each payload is serialised whole (metadata and data) and sealed with a fresh
96-bit nonce under the ring's newest key. The result is a payload of encoding
``binary/encrypted`` whose metadata names the key id; the key id is also the
GCM associated data, so a payload cannot be passed off as sealed by another
key. Decoding leaves any other payload as it is: histories recorded before
encryption, and payloads a plain client wrote, still decode and replay.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from grievance_flow.codec.keys import CodecKeyRing

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class UnknownCodecKeyError(ValueError):
    """A payload sealed by a key this ring does not hold (no secret in the message)."""


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with the ring's newest key; decrypts with whichever it names."""

    def __init__(self, ring: CodecKeyRing) -> None:
        self._ring = ring
        self._ciphers = {key.id: AESGCM(key.secret) for key in ring.keys}

    @property
    def ring(self) -> CodecKeyRing:
        """The ring this codec uses."""
        return self._ring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal each payload under the newest key."""
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open each sealed payload; pass any other through unchanged."""
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        """One payload, encrypted."""
        key = self._ring.newest
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key.id].encrypt(nonce, payload.SerializeToString(), key.id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key.id.encode()}, data=nonce + sealed
        )

    def open(self, payload: Payload) -> Payload:
        """One payload, decrypted if it is sealed.

        Raises:
            UnknownCodecKeyError: Sealed by a key the ring lacks.
            ValueError: The ciphertext was altered (GCM authentication failed).
        """
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownCodecKeyError(
                f"payload sealed by codec key {key_id!r}, which is not in the ring "
                f"(it has {', '.join(key.id for key in self._ring.keys)})"
            )
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise ValueError(
                f"payload sealed by codec key {key_id!r} does not authenticate: altered"
            ) from None
        return Payload.FromString(plain)
