"""The codec key ring file: created private, rotated by appending, refused when malformed."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from grievance_flow.codec.keys import (
    CODEC_KEYS_FILE,
    CodecKeyError,
    ensure_ring_file,
    parse_ring,
    read_ring,
    ring_from,
    rotate_ring_file,
)

KEY = base64.b64encode(bytes(range(32))).decode()


def test_up_creates_a_private_ring_once(tmp_path: Path) -> None:
    path = ensure_ring_file(tmp_path)
    assert path == tmp_path / CODEC_KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = read_ring(path)
    assert len(first.keys) == 1 and len(first.newest.secret) == 32
    ensure_ring_file(tmp_path)
    assert read_ring(path) == first  # kept, not replaced


def test_rotation_appends_a_key_that_becomes_the_newest(tmp_path: Path) -> None:
    path = ensure_ring_file(tmp_path)
    before = read_ring(path)
    added = rotate_ring_file(path)
    after = read_ring(path)
    assert after.keys[:-1] == before.keys
    assert after.newest == added != before.newest
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_environment_may_hold_the_ring_or_its_path(tmp_path: Path) -> None:
    text = json.dumps({"keys": [{"id": "k1", "key": KEY}]})
    given = ring_from(text, tmp_path)
    (tmp_path / "ring.json").write_text(text)
    in_file = ring_from(str(tmp_path / "ring.json"), Path("/nonexistent"))
    assert given is not None and given.newest.id == "k1"
    assert in_file is not None and in_file.newest.id == "k1"
    assert ring_from(None, tmp_path) is None  # no file in the data dir: plain payloads
    ensure_ring_file(tmp_path)
    assert ring_from(None, tmp_path) is not None
    assert ring_from("off", tmp_path) is None  # turned off, the data dir's file or not


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("{}", 'expected {"keys": [...]}'),
        (json.dumps({"keys": [{"key": KEY}]}), "keys[0]: needs a non-empty string id"),
        ('{"keys": [{"id": "k1", "key": "c2hvcnQ="}]}', "keys[0] (k1): key must be 32 bytes"),
        (json.dumps({"keys": [{"id": "k1", "key": KEY}, {"id": "k1", "key": KEY}]}),
         "ids must be unique"),
    ],
)  # fmt: skip
def test_a_malformed_ring_is_refused_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(CodecKeyError, match="codec keys from test") as caught:
        parse_ring(text, source="test")
    assert message in str(caught.value)
    assert KEY not in str(caught.value)


def test_a_key_never_shows_in_its_repr(tmp_path: Path) -> None:
    ring = read_ring(ensure_ring_file(tmp_path))
    assert base64.b64encode(ring.newest.secret).decode() not in repr(ring)
