"""``grievance report --month 2026-11 [-o FILE]``: the month's unit table for the monthly report.

The rows are exactly those of ``GET /v1/kpis?group_by=unit`` over the local
month (the same query, the same fields, the same order), so the file a centre
circulates agrees with the API; an XLSX adds a second sheet with the ranking
of ``GET /v1/kpis/ranking``. Read from the system's read model (the data dir's
SQLite, or ``DATABASE_URL``) without going through the API.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.catalogue.model import Catalogue
from grievance_flow.cli.progress import ProgressBar
from grievance_flow.reports.period import PeriodError, current_month, month_period
from grievance_flow.reports.ranking import rank_units
from grievance_flow.reports.table import (
    CHINESE_NAMES,
    KPI_FIELDS,
    RANKING_FIELDS,
    csv_lines,
    kpi_record,
    ranking_record,
    to_csv,
)
from grievance_flow.runtime import load_domain, open_database
from grievance_flow.settings import settings_for
from grievance_flow.store.kpis import KpiGroup, KpiQuery, kpi_rows

FORMATS = (".csv", ".xlsx")


def report_command(
    *, month: str | None, output: Path | None, data_dir: Path | None, catalogue: Path | None
) -> int:
    """Write the month's unit table to ``output`` (CSV or XLSX by suffix) or CSV to stdout."""
    if output is not None and output.suffix.lower() not in FORMATS:
        print(f"error: -o must end in .csv or .xlsx, got '{output.name}'", file=sys.stderr)
        return 2
    settings = settings_for(data_dir)
    try:
        domain = load_domain(catalogue or settings.catalogue)
    except CatalogueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tz = domain.catalogue.timezone_info
    chosen = month or current_month(tz, now=datetime.now(UTC))
    try:
        span = month_period(chosen, tz)
    except PeriodError as exc:
        print(f"error: --month: {exc}", file=sys.stderr)
        return 2
    engine = open_database(settings)
    try:
        query = KpiQuery(start=span.start, end=span.end, group_by=KpiGroup.UNIT, tz=tz)
        rows = kpi_rows(engine, query)
    finally:
        engine.dispose()
    units = [kpi_record(row, KpiGroup.UNIT, domain.catalogue) for row in rows]
    ranking = [
        ranking_record(place, domain.catalogue)
        for place in rank_units(rows, domain.catalogue.policy.ranking_weights)
    ]
    if output is None:
        sys.stdout.write(to_csv(units, KPI_FIELDS))
    elif output.suffix.lower() == ".csv":
        write_csv(output, units)
    else:
        write_workbook(output, chosen, units, ranking, domain.catalogue)
    if output is not None:
        print(f"{output}: {len(units)} rows for {chosen} ({domain.catalogue.timezone})")
    return 0


def write_csv(path: Path, units: Sequence[dict[str, Any]]) -> None:
    """The unit table as CSV, with a progress bar on a terminal while a long one is written."""
    bar = ProgressBar(len(units))
    with path.open("w", encoding="utf-8", newline="") as out:
        lines = csv_lines(units, KPI_FIELDS)
        out.write(next(lines))
        for line in lines:
            out.write(line)
            bar.advance()
    bar.finish()


def write_workbook(
    path: Path,
    month: str,
    units: Sequence[dict[str, Any]],
    ranking: Sequence[dict[str, Any]],
    catalogue: Catalogue,
) -> None:
    """Two sheets, 单位指标 and 排名: field names in row 1, Chinese labels in row 2."""
    from openpyxl import Workbook  # only the XLSX path needs it loaded

    book = Workbook()
    sheets = (("单位指标", units, KPI_FIELDS), ("排名", ranking, RANKING_FIELDS))
    bar = ProgressBar(len(units) + len(ranking))
    for index, (title, records, fields) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        sheet.append(list(fields))
        sheet.append([CHINESE_NAMES.get(name, "") for name in fields])
        for record in records:
            sheet.append([record[name] for name in fields])
            bar.advance()
        sheet.freeze_panes = "A3"
    bar.finish()
    book.properties.title = f"{month} 12345 考核指标 ({catalogue.timezone})"
    book.save(path)
