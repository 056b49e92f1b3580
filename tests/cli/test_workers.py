"""How many worker processes ``up`` starts, and what each is told (no processes run here)."""

from __future__ import annotations

import os

import pytest

from grievance_flow.cli import workers
from grievance_flow.cli.main import _parser
from grievance_flow.cli.workers import child_environments, default_worker_count


@pytest.mark.parametrize(("cores", "expected"), [(1, 1), (2, 1), (4, 3), (16, 15)])
def test_one_worker_per_core_beyond_the_first_and_at_least_one(
    monkeypatch: pytest.MonkeyPatch, cores: int, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)))
    assert default_worker_count() == expected


def test_children_join_up_and_keep_the_rest_of_its_environment() -> None:
    base = {"NOTICE_WEBHOOK_URL": "http://hook", "TEMPORAL_ADDRESS": "elsewhere:7233"}
    envs = child_environments(base, {"TEMPORAL_ADDRESS": "127.0.0.1:7300"}, 2)
    assert envs == [{"NOTICE_WEBHOOK_URL": "http://hook", "TEMPORAL_ADDRESS": "127.0.0.1:7300"}] * 2


def test_children_get_a_metrics_port_each() -> None:
    envs = child_environments({workers.METRICS_PORT_VARIABLE: "9464"}, {}, 3)
    assert [env[workers.METRICS_PORT_VARIABLE] for env in envs] == ["9464", "9465", "9466"]


def test_workers_takes_a_count_of_at_least_zero() -> None:
    assert _parser().parse_args(["up", "--workers", "0"]).workers == 0
    assert _parser().parse_args(["up"]).workers is None
    with pytest.raises(SystemExit):
        _parser().parse_args(["up", "--workers", "-1"])
