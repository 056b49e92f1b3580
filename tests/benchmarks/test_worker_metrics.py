"""Reading the workflow cache's metrics from a Prometheus page."""

from __future__ import annotations

from benchmarks.worker_metrics import parse, short

PAGE = """\
# HELP temporal_sticky_cache_hit Count of times the workflow cache was used
# TYPE temporal_sticky_cache_hit counter
temporal_sticky_cache_hit_total{namespace="default",task_queue="q"} 40
temporal_sticky_cache_hit_total{namespace="other",task_queue="q"} 2
temporal_sticky_cache_size{namespace="default"} 9
temporal_workflow_task_replay_latency_count{namespace="default"} 51
temporal_workflow_task_replay_latency_sum{namespace="default"} 3.5
temporal_num_pollers{poller_type="workflow_task"} 2
"""


def test_cache_metrics_are_summed_over_label_sets_without_total() -> None:
    assert parse(PAGE) == {
        "temporal_sticky_cache_hit": 42.0,
        "temporal_sticky_cache_size": 9.0,
        "temporal_workflow_task_replay_latency_count": 51.0,
    }


def test_short_names() -> None:
    assert short("temporal_sticky_cache_total_forced_eviction") == "total_forced_eviction"
    assert short("temporal_workflow_task_replay_latency_count") == "tasks"
