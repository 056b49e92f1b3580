"""The AES-256-GCM codec: round trip, rotation, tampering, and plain payloads passed through."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from grievance_flow.codec.converter import sealed_converter
from grievance_flow.codec.encryption import ENCODING, KEY_ID, EncryptionCodec, UnknownCodecKeyError
from grievance_flow.codec.keys import CodecKeyRing, ensure_ring_file, read_ring, rotate_ring_file
from grievance_flow.payloads import DATA_CONVERTER
from grievance_flow.workflows.contracts import Reporter

PHONE = "13812345678"


@pytest.fixture
def ring(tmp_path: Path) -> CodecKeyRing:
    return read_ring(ensure_ring_file(tmp_path))


async def test_a_payload_round_trips_and_is_sealed_in_between(ring: CodecKeyRing) -> None:
    converter = sealed_converter(ring)
    (payload,) = await converter.encode([Reporter(name="王女士", phone=PHONE)])
    assert payload.metadata["encoding"] == ENCODING
    assert payload.metadata[KEY_ID] == ring.newest.id.encode()
    assert PHONE.encode() not in payload.SerializeToString()
    assert "王女士".encode() not in payload.SerializeToString()
    assert await converter.decode([payload], [Reporter]) == [Reporter(name="王女士", phone=PHONE)]


async def test_the_same_value_seals_differently_each_time(ring: CodecKeyRing) -> None:
    codec = EncryptionCodec(ring)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')
    first, second = await codec.encode([plain, plain])
    assert first.data != second.data  # a fresh nonce each time


async def test_after_rotation_new_payloads_use_the_new_key_and_old_ones_still_open(
    tmp_path: Path,
) -> None:
    path = ensure_ring_file(tmp_path)
    old_codec = EncryptionCodec(read_ring(path))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"13812345678"')
    (old,) = await old_codec.encode([plain])
    added = rotate_ring_file(path)
    codec = EncryptionCodec(read_ring(path))
    (new,) = await codec.encode([plain])
    assert new.metadata[KEY_ID] == added.id.encode() != old.metadata[KEY_ID]
    assert await codec.decode([old, new]) == [plain, plain]
    with pytest.raises(UnknownCodecKeyError, match=added.id):
        await old_codec.decode([new])  # a process that has not got the new key yet


async def test_an_altered_payload_does_not_open(ring: CodecKeyRing) -> None:
    codec = EncryptionCodec(ring)
    (sealed,) = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 1
    with pytest.raises(ValueError, match="does not authenticate"):
        await codec.decode([Payload(metadata=dict(sealed.metadata), data=bytes(flipped))])


async def test_plain_payloads_pass_through(ring: CodecKeyRing) -> None:
    # Histories recorded before encryption: their payloads decode as they are.
    (plain,) = await DATA_CONVERTER.encode([Reporter(name="王女士", phone=PHONE)])
    assert await EncryptionCodec(ring).decode([plain]) == [plain]
    decoded = await sealed_converter(ring).decode([plain], [Reporter])
    assert decoded == [Reporter(name="王女士", phone=PHONE)]
