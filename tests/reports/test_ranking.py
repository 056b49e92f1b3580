"""The weighted unit score and the ranking order (考核排名)."""

from __future__ import annotations

from grievance_flow.catalogue.model import RankingWeights
from grievance_flow.reports.ranking import rank_units, score
from grievance_flow.store.kpis import KpiRow

WEIGHTS = RankingWeights()


def unit(key: str | None, *, on_time: int, accepted: int, resolved: int, closed: int,
         satisfied: int, reached: int) -> KpiRow:  # fmt: skip
    """A unit's counts, as many cases as it accepted."""
    return KpiRow(
        key=key,
        cases=accepted,
        accepted=accepted,
        accepted_on_time=on_time,
        closed=closed,
        resolved=resolved,
        reached=reached,
        satisfied=satisfied,
    )


def test_the_score_is_the_weighted_mean_of_the_three_rates() -> None:
    row = unit("a", on_time=9, accepted=10, resolved=8, closed=10, satisfied=7, reached=10)
    # (30 × 0.9 + 35 × 0.8 + 35 × 0.7) / 100 × 100
    assert score(row, WEIGHTS) == 79.5
    assert score(row, RankingWeights(response=1, resolution=0, satisfaction=0)) == 90.0


def test_a_missing_rate_is_left_out_not_scored_zero() -> None:
    row = unit("a", on_time=9, accepted=10, resolved=8, closed=10, satisfied=0, reached=0)
    assert score(row, WEIGHTS) == round(100 * (30 * 0.9 + 35 * 0.8) / 65, 2)
    nothing = unit("b", on_time=0, accepted=0, resolved=0, closed=0, satisfied=0, reached=0)
    assert score(nothing, WEIGHTS) is None


def test_ranks_are_shared_on_ties_and_unscored_units_come_last() -> None:
    rows = [
        unit("low", on_time=1, accepted=2, resolved=1, closed=2, satisfied=1, reached=2),
        unit("none", on_time=0, accepted=0, resolved=0, closed=0, satisfied=0, reached=0),
        unit("top-b", on_time=1, accepted=1, resolved=1, closed=1, satisfied=1, reached=1),
        unit("top-a", on_time=2, accepted=2, resolved=2, closed=2, satisfied=2, reached=2),
        unit(None, on_time=1, accepted=1, resolved=1, closed=1, satisfied=1, reached=1),
    ]
    ranked = rank_units(rows, WEIGHTS)
    assert [(r.rank, r.row.key, r.score) for r in ranked] == [
        (1, "top-a", 100.0),
        (1, "top-b", 100.0),
        (3, "low", 50.0),
        (None, "none", None),
    ]
    assert [r.below_line for r in ranked] == [False, False, True, False]
