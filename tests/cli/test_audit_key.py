"""``grievance audit key``: the audit key made once, its public half printed, never its secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from grievance_flow.audit.signing import read_signing_key
from grievance_flow.cli.main import main


def test_the_audit_key_is_made_once_and_only_its_public_half_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys" / "audit-key.pem"
    path.parent.mkdir()
    assert main(["audit", "key", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    key = read_signing_key(path)
    assert f"created, key id {key.verifying.key_id}" in out
    assert key.verifying.pem() in out and "PRIVATE" not in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert main(["audit", "key", "--file", str(path)]) == 0
    assert "kept" in capsys.readouterr().out
    assert read_signing_key(path).verifying.key_id == key.verifying.key_id
