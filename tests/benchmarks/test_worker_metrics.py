"""Reading the workflow cache's metrics from a Prometheus page."""

from __future__ import annotations

from benchmarks import worker_metrics
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


def test_a_progress_line_shows_what_happened_between_two_scrapes() -> None:
    before = worker_metrics.parse(
        "temporal_sticky_cache_hit 10\n"
        "temporal_sticky_cache_miss 2\n"
        "temporal_workflow_task_schedule_to_start_latency_sum 0.1\n"
        "temporal_workflow_task_schedule_to_start_latency_count 10\n",
        worker_metrics.PROGRESS,
    )
    now = worker_metrics.parse(
        'temporal_sticky_cache_hit{task_queue="q"} 40\n'
        "temporal_sticky_cache_miss 7\n"
        "temporal_workflow_task_schedule_to_start_latency_sum 1.6\n"
        "temporal_workflow_task_schedule_to_start_latency_count 20\n"
        "temporal_local_activity_execution_latency_sum 0.09\n"
        "temporal_local_activity_execution_latency_count 3\n"
        "temporal_workflow_task_timeouts 2\n",
        worker_metrics.PROGRESS,
    )
    line = worker_metrics.progress_line(before, now)
    assert line == ("hit 30, miss 5, evicted 0, wft wait 150 ms, LA 30 ms, wft failed/timed out 2")
