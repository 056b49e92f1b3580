"""Finding ``up``'s running system: its plain dev server, whatever the shell says about a cloud."""

from __future__ import annotations

from pathlib import Path

import pytest

from grievance_flow.cli.system import SystemInfo, locate_system, write_system_file


def test_a_data_dir_system_is_reached_without_the_shells_tls_or_api_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA"):
        monkeypatch.setenv(name, str(tmp_path / f"{name}.pem"))
    monkeypatch.setenv("TEMPORAL_API_KEY", "for-the-cloud")
    write_system_file(
        tmp_path, SystemInfo("127.0.0.1:7233", namespace="default", task_queue="q", api=None)
    )
    settings, source = locate_system(tmp_path)
    assert source == str(tmp_path / "system.json")
    assert settings.temporal_address == "127.0.0.1:7233"
    assert (settings.temporal_tls_cert, settings.temporal_tls_key) == (None, None)
    assert (settings.temporal_tls_ca, settings.temporal_api_key) == (None, None)


def test_an_external_cluster_keeps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "grievance.a1b2c.tmprl.cloud:7233")
    monkeypatch.setenv("TEMPORAL_API_KEY", "for-the-cloud")
    settings, source = locate_system(None)
    assert source == "TEMPORAL_ADDRESS"
    assert settings.temporal_api_key is not None
    assert settings.temporal_api_key.get_secret_value() == "for-the-cloud"
