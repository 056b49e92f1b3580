"""Settings: the Temporal connection options for an existing cluster or Temporal Cloud."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from grievance_flow.settings import Settings


def test_the_cloud_options_come_from_their_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_CERT", str(tmp_path / "client.pem"))
    monkeypatch.setenv("TEMPORAL_TLS_KEY", str(tmp_path / "client.key"))
    monkeypatch.setenv("TEMPORAL_TLS_CA", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("TEMPORAL_API_KEY", "the-api-key")
    settings = Settings()
    assert settings.temporal_tls_cert == tmp_path / "client.pem"
    assert settings.temporal_tls_key == tmp_path / "client.key"
    assert settings.temporal_tls_ca == tmp_path / "ca.pem"
    assert settings.temporal_api_key is not None
    assert settings.temporal_api_key.get_secret_value() == "the-api-key"


def test_without_them_the_connection_is_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA", "TEMPORAL_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert (settings.temporal_tls_cert, settings.temporal_tls_key) == (None, None)
    assert (settings.temporal_tls_ca, settings.temporal_api_key) == (None, None)


@pytest.mark.parametrize("alone", ["TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"])
def test_a_certificate_needs_its_key_and_the_error_keeps_the_api_key_secret(alone: str) -> None:
    with pytest.raises(
        ValidationError, match="TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together"
    ) as raised:
        Settings.model_validate({alone: "/etc/tls/x.pem", "TEMPORAL_API_KEY": "never-shown"})
    assert "never-shown" not in str(raised.value)


def test_the_api_key_never_shows_in_a_repr() -> None:
    settings = Settings.model_validate({"TEMPORAL_API_KEY": "never-shown"})
    assert "never-shown" not in repr(settings)
    assert "never-shown" not in str(settings.model_dump())
