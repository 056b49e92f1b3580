"""Freezing the start-up heap (:mod:`grievance_flow.heap`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from grievance_flow.heap import freeze_start_up


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    # The test process must not keep what it froze out of collection.
    try:
        yield
    finally:
        gc.unfreeze()


def tracked(target: object) -> bool:
    return any(candidate is target for candidate in gc.get_objects())


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_objects_alive_at_the_freeze_are_left_out_of_collections_later_ones_are_not() -> None:
    survivor: list[object] = []
    survivor.append(survivor)  # a cycle: the collector tracks it
    assert tracked(survivor)

    frozen = freeze_start_up()

    assert frozen == gc.get_freeze_count() > 0
    assert not tracked(survivor)
    made_later: list[object] = []
    made_later.append(made_later)
    assert tracked(made_later)


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_start_up_garbage_is_collected_not_frozen() -> None:
    garbage: list[object] = []
    garbage.append(garbage)
    collected = gc.get_stats()[2]["collected"]
    del garbage

    freeze_start_up()

    # The full collection before the freeze freed the cycle.
    assert gc.get_stats()[2]["collected"] > collected
