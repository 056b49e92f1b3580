"""Hotspots counted on the read model: windows to the microsecond, trends, exclusions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from grievance_flow.store.hotspots import (
    Hotspot,
    Trend,
    hotspots,
    known_cases,
    trend_of,
    windows,
)
from grievance_flow.store.projection import project_case
from grievance_flow.workflows.contracts import (
    PROACTIVE_CHANNEL,
    CaseView,
    Location,
    Outcome,
    Stage,
)
from tests.store.factories import T0, make_case

NOW = T0 + timedelta(days=90)
DAYS = 30
WINDOW = timedelta(days=DAYS)
US = timedelta(microseconds=1)

VENDING = "city.street-vending"
NOISE = "police.noise"
GARBAGE = "city.garbage"


def _case(
    name: str, at: datetime, *, category: str | None = VENDING, grid: str = "grid-1", **extra: Any
) -> CaseView:
    return make_case(
        name,
        created_at=at,
        category=category,
        location=Location(address="湖滨路12号", grid=grid),
        **extra,
    )


def _file(engine: Engine, *cases: CaseView) -> None:
    for case in cases:
        project_case(engine, case, [])


def _counts(spots: list[Hotspot]) -> list[tuple[str, str, int, int, Trend]]:
    return [(s.category, s.grid, s.cases, s.previous, s.trend) for s in spots]


def test_window_edges_to_the_microsecond(engine: Engine) -> None:
    _file(
        engine,
        _case("at-window-start", NOW - WINDOW),  # current: the start is inside
        _case("just-before-now", NOW - US),  # current
        _case("just-before-window", NOW - WINDOW - US),  # previous
        _case("at-previous-start", NOW - 2 * WINDOW),  # previous
        _case("at-now", NOW),  # outside: the end is not inside
        _case("before-previous", NOW - 2 * WINDOW - US),  # outside
    )
    [spot] = hotspots(engine, now=NOW, days=DAYS, min_cases=1)
    assert (spot.cases, spot.previous, spot.trend) == (2, 2, Trend.FLAT)
    assert spot.case_ids == ["grievance-at-window-start", "grievance-just-before-now"]

    # A microsecond later the window has moved past its first case.
    [later] = hotspots(engine, now=NOW + US, days=DAYS, min_cases=1)
    assert later.case_ids == ["grievance-just-before-now", "grievance-at-now"]
    assert later.previous == 2  # at-window-start moved in, at-previous-start moved out


def test_clusters_are_category_by_grid_most_cases_first(engine: Engine) -> None:
    day = timedelta(days=1)
    _file(
        engine,
        # vending in grid-2: 3 now, 1 before -> up
        *(_case(f"v2-{n}", NOW - n * day, grid="grid-2") for n in (3, 1, 2)),
        _case("v2-old", NOW - WINDOW - day, grid="grid-2"),
        # noise in grid-1: 1 now, 3 before -> down
        _case("n1-now", NOW - 5 * day, category=NOISE),
        *(_case(f"n1-old-{n}", NOW - WINDOW - n * day, category=NOISE) for n in (1, 2, 3)),
        # garbage and vending in grid-1: 1 now, none before -> new (ties: by category)
        _case("g1", NOW - 4 * day, category=GARBAGE),
        _case("v1", NOW - 4 * day),
        # nothing this window: never listed, however busy before
        *(_case(f"quiet-{n}", NOW - WINDOW - n * day, grid="grid-3") for n in (1, 2)),
    )
    spots = hotspots(engine, now=NOW, days=DAYS, min_cases=1)
    assert _counts(spots) == [
        (VENDING, "grid-2", 3, 1, Trend.UP),
        (GARBAGE, "grid-1", 1, 0, Trend.NEW),
        (VENDING, "grid-1", 1, 0, Trend.NEW),
        (NOISE, "grid-1", 1, 3, Trend.DOWN),
    ]
    assert spots[0].case_ids == ["grievance-v2-3", "grievance-v2-2", "grievance-v2-1"]

    assert _counts(hotspots(engine, now=NOW, days=DAYS, min_cases=3)) == [
        (VENDING, "grid-2", 3, 1, Trend.UP)
    ]
    assert hotspots(engine, now=NOW, days=DAYS, min_cases=4) == []

    # One category, or one cluster: what a proactive case links to by default.
    assert [
        s.grid for s in hotspots(engine, now=NOW, days=DAYS, min_cases=1, category=VENDING)
    ] == [
        "grid-2",
        "grid-1",
    ]
    [one] = hotspots(engine, now=NOW, days=DAYS, min_cases=1, category=NOISE, grid="grid-1")
    assert (one.case_ids, one.previous) == (["grievance-n1-now"], 3)


def test_what_is_not_counted(engine: Engine) -> None:
    at = NOW - timedelta(days=2)
    _file(
        engine,
        _case("counted", at),
        # Not yet dispatched: counted under the classifier's suggestion.
        _case("suggested", at + US, category=None, suggested_category=VENDING),
        _case("merged", at, stage=Stage.CLOSED, outcome=Outcome.MERGED),
        _case("rejected", at, stage=Stage.CLOSED, outcome=Outcome.REJECTED),
        _case("proactive", at, channel=PROACTIVE_CHANNEL),
        _case("unclassified", at, category=None),
        # Closed otherwise: still a case of the cluster.
        _case("withdrawn", at + 2 * US, stage=Stage.CLOSED, outcome=Outcome.WITHDRAWN),
        # Excluded in the previous window too.
        _case("merged-before", at - WINDOW, stage=Stage.CLOSED, outcome=Outcome.MERGED),
        _case("proactive-before", at - WINDOW, channel=PROACTIVE_CHANNEL),
    )
    [spot] = hotspots(engine, now=NOW, days=DAYS, min_cases=1)
    assert spot.case_ids == ["grievance-counted", "grievance-suggested", "grievance-withdrawn"]
    assert (spot.category, spot.previous, spot.trend) == (VENDING, 0, Trend.NEW)


def test_dispatched_category_wins_over_the_suggestion(engine: Engine) -> None:
    at = NOW - timedelta(days=2)
    _file(engine, _case("redirected", at, category=NOISE, suggested_category=VENDING))
    assert [s.category for s in hotspots(engine, now=NOW, days=DAYS, min_cases=1)] == [NOISE]


def test_a_unit_sees_the_cases_assigned_to_it(engine: Engine) -> None:
    at = NOW - timedelta(days=2)
    _file(
        engine,
        _case("mine", at, unit="grid-1"),
        _case("mine-too", at + US, unit="grid-1"),
        _case("theirs", at, unit="street-1"),
        _case("unassigned", at, unit=None),
        _case("mine-before", at - WINDOW, unit="grid-1"),
        _case("theirs-before", at - WINDOW, unit="street-1"),
    )
    [mine] = hotspots(engine, now=NOW, days=DAYS, min_cases=1, unit="grid-1")
    assert (mine.case_ids, mine.previous) == (["grievance-mine", "grievance-mine-too"], 1)
    [everyone] = hotspots(engine, now=NOW, days=DAYS, min_cases=1)
    assert (everyone.cases, everyone.previous) == (4, 2)
    assert hotspots(engine, now=NOW, days=DAYS, min_cases=1, unit="nowhere") == []


def test_windows_and_trends() -> None:
    spans = windows(NOW, 7)
    assert (spans.current.start, spans.current.end) == (NOW - timedelta(days=7), NOW)
    assert spans.previous.end == spans.current.start
    assert spans.previous.start == NOW - timedelta(days=14)
    assert [trend_of(*n) for n in ((3, 0), (3, 2), (2, 3), (2, 2))] == [
        Trend.NEW,
        Trend.UP,
        Trend.DOWN,
        Trend.FLAT,
    ]


@pytest.mark.parametrize(
    ("days", "min_cases", "message"),
    [(0, 1, "days must be at least 1"), (30, 0, "min_cases must be at least 1")],
)
def test_bad_arguments_are_refused(engine: Engine, days: int, min_cases: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hotspots(engine, now=NOW, days=days, min_cases=min_cases)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        windows(NOW.replace(tzinfo=None), 30)


def test_known_cases(engine: Engine) -> None:
    _file(engine, _case("here", NOW - timedelta(days=1)))
    assert known_cases(engine, ["grievance-here", "grievance-elsewhere"]) == {"grievance-here"}
    assert known_cases(engine, []) == set()
