"""``grievance codec init | rotate``: the key ring file on the command line."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from grievance_flow.cli.main import main
from grievance_flow.codec.keys import read_ring


def test_init_creates_once_and_rotate_appends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ring_file = tmp_path / "keys" / "ring.json"
    ring_file.parent.mkdir()
    assert main(["codec", "init", "--file", str(ring_file)]) == 0
    assert "created" in capsys.readouterr().out
    first = read_ring(ring_file)
    assert stat.S_IMODE(ring_file.stat().st_mode) == 0o600
    assert main(["codec", "init", "--file", str(ring_file)]) == 0
    assert "kept" in capsys.readouterr().out and read_ring(ring_file) == first
    assert main(["codec", "rotate", "--file", str(ring_file)]) == 0
    rotated = read_ring(ring_file)
    assert rotated.keys[0] == first.newest and rotated.newest.id in capsys.readouterr().out


def test_rotate_in_a_data_dir_without_a_ring_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["codec", "rotate", "--data-dir", str(tmp_path)]) == 2
    assert "cannot read codec keys" in capsys.readouterr().err


def test_the_codec_server_needs_a_ring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codec-server", "--data-dir", str(tmp_path)]) == 2
    assert "no codec key ring" in capsys.readouterr().err
