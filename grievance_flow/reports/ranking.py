"""The monthly unit ranking (考核排名): a weighted score of 响应率, 解决率 and 满意率.

Some centres publish 响应 30 / 解决 35 / 满意 35; the weights come from the
catalogue policy. 响应率 here is 及时签收率 (accepted on time / accepted). The
score is the weighted mean of the rates a unit has, times 100: a unit with no
recheck yet is scored on the other two rather than given 0 for 满意. A unit whose
及时签收率 is below 80 % is flagged, since some centres (Lianyungang) then score
that component 0; the flag is shown, the score is not changed by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from grievance_flow.catalogue.model import RankingWeights
from grievance_flow.store.kpis import KpiRow

SIGNING_LINE = 0.8
"""及时签收率 below this is flagged (``below_line``)."""


@dataclass(frozen=True)
class RankedUnit:
    """One unit's place: its score, its three components and its counts."""

    rank: int | None
    """1 for the best; equal scores share a rank; None with no score at all."""
    row: KpiRow
    score: float | None
    """0–100, two decimals; None when the unit has none of the three rates."""

    @property
    def response_rate(self) -> float | None:
        """响应率 (及时签收率)."""
        return self.row.accepted_on_time_rate

    @property
    def below_line(self) -> bool:
        """及时签收率 under :data:`SIGNING_LINE`."""
        rate = self.row.accepted_on_time_rate
        return rate is not None and rate < SIGNING_LINE


def score(row: KpiRow, weights: RankingWeights) -> float | None:
    """The weighted mean of the rates ``row`` has, as 0–100 (two decimals)."""
    parts = [
        (weights.response, row.accepted_on_time_rate),
        (weights.resolution, row.resolution_rate),
        (weights.satisfaction, row.satisfaction_rate),
    ]
    present = [(weight, rate) for weight, rate in parts if rate is not None and weight > 0]
    total = sum(weight for weight, _ in present)
    if total == 0:
        return None
    return round(100 * sum(weight * rate for weight, rate in present) / total, 2)


def rank_units(rows: list[KpiRow], weights: RankingWeights) -> list[RankedUnit]:
    """Units best first (competition ranking: 1, 2, 2, 4); unscored units last.

    Rows without a unit (cases not yet dispatched) are left out.
    """
    scored = [(row, score(row, weights)) for row in rows if row.key is not None]
    scored.sort(key=lambda item: (item[1] is None, -(item[1] or 0.0), item[0].key or ""))
    ranked: list[RankedUnit] = []
    for position, (row, value) in enumerate(scored, start=1):
        if value is None:
            rank = None
        elif ranked and ranked[-1].score == value:
            rank = ranked[-1].rank
        else:
            rank = position
        ranked.append(RankedUnit(rank=rank, row=row, score=value))
    return ranked
