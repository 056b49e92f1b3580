"""The worker's metrics runtime: off without a port, and a taken port is said plainly."""

from __future__ import annotations

import socket

import pytest

from grievance_flow.settings import Settings
from grievance_flow.worker_metrics import MetricsPortError, metrics_runtime, serve_worker_metrics


def test_no_port_serves_nothing() -> None:
    assert serve_worker_metrics(Settings()) is None


def test_a_taken_port_is_an_error_naming_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsPortError, match=f"127.0.0.1:{port}.*in use"):
            metrics_runtime(f"127.0.0.1:{port}")


def test_the_port_comes_from_the_environment() -> None:
    settings = Settings(GRIEVANCE_METRICS_PORT="9464")
    assert (settings.metrics_port, settings.metrics_host) == (9464, "0.0.0.0")
    with pytest.raises(ValueError, match="GRIEVANCE_METRICS_PORT"):
        Settings(GRIEVANCE_METRICS_PORT="0")
