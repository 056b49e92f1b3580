"""The process's Temporal client: TLS and an API key when the settings have them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from grievance_flow import runtime
from grievance_flow.payloads import DATA_CONVERTER
from grievance_flow.settings import Settings


def _pem_files(tmp_path: Path) -> dict[str, str]:
    files = {"TEMPORAL_TLS_CERT": b"CERT", "TEMPORAL_TLS_KEY": b"KEY", "TEMPORAL_TLS_CA": b"CA"}
    settings: dict[str, str] = {}
    for name, content in files.items():
        path = tmp_path / f"{name.lower()}.pem"
        path.write_bytes(b"-----BEGIN " + content + b"-----\n")
        settings[name] = str(path)
    return settings


def test_the_tls_files_are_read_into_the_client_config(tmp_path: Path) -> None:
    tls = runtime.temporal_tls(Settings.model_validate(_pem_files(tmp_path)))
    assert tls == TLSConfig(
        client_cert=b"-----BEGIN CERT-----\n",
        client_private_key=b"-----BEGIN KEY-----\n",
        server_root_ca_cert=b"-----BEGIN CA-----\n",
    )


def test_a_ca_alone_means_tls_with_that_ca(tmp_path: Path) -> None:
    ca = _pem_files(tmp_path)["TEMPORAL_TLS_CA"]
    tls = runtime.temporal_tls(Settings.model_validate({"TEMPORAL_TLS_CA": ca}))
    assert tls == TLSConfig(server_root_ca_cert=b"-----BEGIN CA-----\n")


def test_no_files_leave_tls_to_the_sdk() -> None:
    assert runtime.temporal_tls(Settings.model_validate({})) is None


async def test_connect_passes_the_tls_and_the_api_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    async def connect(target_host: str, **options: Any) -> str:
        seen.update(options, target_host=target_host)
        return "client"

    monkeypatch.setattr(Client, "connect", connect)
    settings = Settings.model_validate(
        {
            **_pem_files(tmp_path),
            "TEMPORAL_ADDRESS": "grievance.a1b2c.tmprl.cloud:7233",
            "TEMPORAL_NAMESPACE": "grievance.a1b2c",
            "TEMPORAL_API_KEY": "the-api-key",
        }
    )
    client: object = await runtime.connect_temporal(settings)
    assert client == "client"
    assert seen == {
        "target_host": "grievance.a1b2c.tmprl.cloud:7233",
        "namespace": "grievance.a1b2c",
        "tls": runtime.temporal_tls(settings),
        "api_key": "the-api-key",
        "data_converter": DATA_CONVERTER,
    }


async def test_a_plain_cluster_is_connected_without_tls(dev_env: WorkflowEnvironment) -> None:
    settings = Settings.model_validate(
        {"TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host}
    )
    client = await runtime.connect_temporal(settings)
    assert await client.service_client.check_health()
