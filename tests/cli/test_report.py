"""``grievance report``: the monthly unit table, the same as ``GET /v1/kpis`` says."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from temporalio.testing import WorkflowEnvironment

from grievance_flow.cli.main import main
from grievance_flow.reports.period import current_month
from grievance_flow.reports.table import KPI_FIELDS, RANKING_FIELDS
from grievance_flow.runtime import load_domain
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import running_api
from tests.api.helpers import act, dispatched_case, file_case, handled_case


async def test_the_months_csv_and_xlsx_match_the_api(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    domain = load_domain(None)
    month = current_month(domain.catalogue.timezone_info, now=datetime.now(UTC))
    async with running_api(dev_env, tmp_path, domain) as api:
        handled = await handled_case(api)
        await act(
            api, handled["id"], "complete", "grid-1", {"result": "resolved", "note": "已清理"}
        )
        await act(api, handled["id"], "recheck", Role.VERIFIER,
                  {"passed": True, "satisfaction": "satisfied"})  # fmt: skip
        returned = await dispatched_case(api, grid="grid-2")
        await act(api, returned["id"], "return", "grid-2", {"reason": "不属本网格"})
        await file_case(api)
        wanted = {"cases": 3, "closed": 1, "returned": 1}
        for _ in range(100):  # the projection lands a moment after the answer
            body = (
                await api.http.get(
                    "/v1/kpis/ranking", params={"month": month}, headers=api.as_(Role.AUDITOR)
                )
            ).json()
            kpis = await api.http.get(
                "/v1/kpis",
                params={"from": body["range"]["from"], "to": body["range"]["to"]},
                headers={**api.as_(Role.AUDITOR), "Accept": "text/csv"},
            )
            totals = {
                name: sum(int(line.split(",")[KPI_FIELDS.index(name)] or 0)
                          for line in kpis.text.splitlines()[1:])
                for name in wanted
            }  # fmt: skip
            if totals == wanted:
                break
            await asyncio.sleep(0.05)
        assert totals == wanted
        json_items = (
            await api.http.get(
                "/v1/kpis",
                params={"from": body["range"]["from"], "to": body["range"]["to"]},
                headers=api.as_(Role.AUDITOR),
            )
        ).json()["items"]

    csv_file = tmp_path / "report.csv"
    assert main(["report", "--month", month, "--data-dir", str(tmp_path), "-o", str(csv_file)]) == 0
    assert csv_file.read_bytes() == kpis.content

    xlsx_file = tmp_path / "report.xlsx"
    assert (
        main(["report", "--month", month, "--data-dir", str(tmp_path), "-o", str(xlsx_file)]) == 0
    )
    book = load_workbook(xlsx_file)
    units, ranking = book["单位指标"], book["排名"]
    rows = list(units.iter_rows(values_only=True))
    assert rows[0] == KPI_FIELDS
    assert rows[1][KPI_FIELDS.index("accepted_on_time_rate")] == "及时签收率"
    assert [dict(zip(KPI_FIELDS, row, strict=True)) for row in rows[2:]] == json_items
    ranked = list(ranking.iter_rows(values_only=True))
    assert ranked[0] == RANKING_FIELDS
    assert [row[1] for row in ranked[2:]] == [item["unit"] for item in body["items"]]


def test_an_unreadable_month_or_format_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--month", "2026-13", "--data-dir", str(tmp_path)]) == 2
    assert "a month is written YYYY-MM" in capsys.readouterr().err
    assert main(["report", "--data-dir", str(tmp_path), "-o", str(tmp_path / "r.pdf")]) == 2
    assert "must end in .csv or .xlsx" in capsys.readouterr().err


def test_stdout_gets_the_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--month", "2020-01", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [",".join(KPI_FIELDS)]
