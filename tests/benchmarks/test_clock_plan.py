"""The spread plan and its catalogue: targets, clocks, and the hint winning the suggestion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.clock_plan import (
    SpreadPlan,
    duration,
    spread_lines,
    write_catalogue,
    write_spread_catalogue,
)
from benchmarks.clocks import DESCRIPTIONS, GRIDS
from grievance_flow.catalogue.loader import load_catalogue


def test_durations_are_minutes_where_whole_else_seconds() -> None:
    assert duration(120) == {"minutes": 2}
    assert duration(90) == {"seconds": 90}
    with pytest.raises(ValueError):
        duration(0.2)


def test_targets_spread_evenly_after_the_expected_filing() -> None:
    plan = SpreadPlan(cases=4, spread=40, filing=16)
    assert plan.first_due == 20
    assert [plan.target(n) for n in range(4)] == [20, 30, 40, 50]
    assert plan.longest == 60


def test_a_clock_ends_on_target_whenever_the_case_is_filed() -> None:
    plan = SpreadPlan(cases=4, spread=40, filing=16)
    assert plan.clock_for(1, elapsed=0.2) == (30, False)
    assert plan.clock_for(1, elapsed=12.0) == (18, False)
    # Filed after its target: the shortest clock, counted as clamped.
    assert plan.clock_for(0, elapsed=25.0) == (1, True)


def test_the_spread_catalogue_loads_with_a_category_per_clock(tmp_path: Path) -> None:
    plan = SpreadPlan(cases=10, spread=30, filing=8, step=2)
    path = tmp_path / "catalogue.yaml"
    count = write_spread_catalogue(path, plan, 0.5, DESCRIPTIONS, GRIDS[0])
    catalogue = load_catalogue(path)
    assert count == len(catalogue.categories) == len(plan.clocks())
    sla = catalogue.sla_for(plan.category(4))
    assert sla.classify.amount == 4
    assert catalogue.policy.escalate_after.amount == 30
    assert not any(category.auto_dispatch for category in catalogue.categories.values())


def test_the_same_clock_catalogue_keeps_the_bundled_categories(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    write_catalogue(path, 1.5, 1)
    catalogue = load_catalogue(path)
    assert {sla.classify.amount for sla in catalogue.sla_classes.values()} == {90}
    assert "city.street-vending" in catalogue.categories


def test_the_spread_lines_show_min_median_max_and_the_busiest_second() -> None:
    filed = datetime(2026, 12, 2, tzinfo=UTC)
    planned = {
        f"c{n}": {
            name: filed + timedelta(seconds=n + shift)
            for name, shift in (("warn_at", 1), ("due_at", 5), ("escalate_at", 9))
        }
        for n in range(3)
    }
    lines = spread_lines(planned, filed)
    assert lines[2].split() == ["due_at", "5.0", "6.0", "7.0", "1/s"]
