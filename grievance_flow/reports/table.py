"""KPI rows as flat records: the same fields, in the same order, in JSON, CSV and XLSX.

A record is a flat dict so a CSV header row can be exactly the JSON field
names (SPEC §11). Rates are rounded to six decimals (SPEC: at least four).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import Any

from grievance_flow.catalogue.model import Catalogue
from grievance_flow.reports.ranking import RankedUnit
from grievance_flow.store.kpis import COUNTS, KpiGroup, KpiRow

RATE_DIGITS = 6

RATES = (
    "accepted_on_time_rate",
    "completed_on_time_rate",
    "return_rate",
    "reopen_rate",
    "satisfaction_rate",
    "resolution_rate",
)
"""KpiRow's rate properties, in the order of SPEC §11."""

_HEADLINE = ("cases", "overdue", "escalations")
KPI_FIELDS = (
    "key",
    "name",
    "cases",
    *RATES,
    "overdue",
    "escalations",
    *(name for name in COUNTS if name not in _HEADLINE),
)
"""The fields of one ``GET /v1/kpis`` item and of its CSV header, in order."""

RANKING_FIELDS = (
    "rank",
    "unit",
    "name",
    "score",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "below_line",
    "cases",
    "accepted",
    "accepted_on_time",
    "closed",
    "resolved",
    "reached",
    "satisfied",
)
"""The fields of one ranking item and of the monthly report's columns, in order."""

CHINESE_NAMES: Mapping[str, str] = {
    "key": "分组",
    "name": "名称",
    "cases": "受理量",
    "accepted_on_time_rate": "及时签收率",
    "completed_on_time_rate": "按时办结率",
    "return_rate": "退单率",
    "reopen_rate": "重办率",
    "satisfaction_rate": "满意率",
    "resolution_rate": "解决率",
    "overdue": "超期件数",
    "escalations": "提级次数",
    "rank": "排名",
    "unit": "单位",
    "score": "综合得分",
    "response_rate": "响应率",
    "below_line": "签收率低于80%",
}
"""Labels for people (the XLSX header's second row, the dashboard's columns)."""


def rounded(rate: float | None) -> float | None:
    """A rate as reported: six decimals, or None."""
    return None if rate is None else round(rate, RATE_DIGITS)


def group_name(catalogue: Catalogue, group_by: KpiGroup, key: str | None) -> str | None:
    """The unit's or category's name for a key, or None (days, unknown keys, no key)."""
    if key is None:
        return None
    if group_by in (KpiGroup.UNIT, KpiGroup.GRID):
        found = catalogue.units.get(key)
        return None if found is None else found.name
    if group_by is KpiGroup.CATEGORY:
        category = catalogue.categories.get(key)
        return None if category is None else category.name
    return None


def kpi_record(row: KpiRow, group_by: KpiGroup, catalogue: Catalogue) -> dict[str, Any]:
    """One ``GET /v1/kpis`` item, fields in :data:`KPI_FIELDS` order."""
    values: dict[str, Any] = {"key": row.key, "name": group_name(catalogue, group_by, row.key)}
    values.update({name: rounded(getattr(row, name)) for name in RATES})
    values.update({name: getattr(row, name) for name in COUNTS})
    return {name: values[name] for name in KPI_FIELDS}


def ranking_record(ranked: RankedUnit, catalogue: Catalogue) -> dict[str, Any]:
    """One ranking item, fields in :data:`RANKING_FIELDS` order."""
    row = ranked.row
    values: dict[str, Any] = {
        "rank": ranked.rank,
        "unit": row.key,
        "name": group_name(catalogue, KpiGroup.UNIT, row.key),
        "score": ranked.score,
        "response_rate": rounded(ranked.response_rate),
        "resolution_rate": rounded(row.resolution_rate),
        "satisfaction_rate": rounded(row.satisfaction_rate),
        "below_line": ranked.below_line,
    }
    values.update({name: getattr(row, name) for name in RANKING_FIELDS if name not in values})
    return values


def csv_lines(records: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> Iterator[str]:
    """CSV lines (CRLF-terminated): a header row of ``fields``, then one per record.

    None is an empty cell, a boolean ``true``/``false``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for values in chain([list(fields)], ([_cell(r[name]) for name in fields] for r in records)):
        writer.writerow(values)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def to_csv(records: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> str:
    """The whole CSV of :func:`csv_lines` as one string."""
    return "".join(csv_lines(records, fields))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
