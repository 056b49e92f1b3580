"""The intake's duplicate search at a day's scale, with and without its index, in one run.

Fills a SQLite read model with N open cases in one grid and one suggested
category (the worst case: a hotspot, and the Beijing-day benchmark's, whose
cases all share a text), then times :func:`possible_duplicates` as the
classification activity calls it, first with ``ix_cases_duplicates`` (migration
0010), then with that index dropped, and prints ms per search and the ratio.

    .venv/bin/python -m benchmarks.duplicate_search --cases 50000 --tmp-root /dev/shm
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.store.models import CaseRecord
from grievance_flow.store.projection import case_row
from grievance_flow.store.queries import possible_duplicates
from tests.store.factories import T0, make_case

CATEGORY = "city.street-vending"


def fill(url: str, cases: int) -> None:
    """``cases`` open cases, one a second, in grid-1, of one suggested category."""
    engine = make_engine(url)
    migrate(engine)
    template = make_case("template", category=CATEGORY)
    table = CaseRecord.__table__  # type: ignore[attr-defined]
    batch = []
    with engine.begin() as connection:
        for n in range(cases):
            case = replace(
                template,
                id=f"grievance-B-{n:07}",
                external_id=f"B-{n:07}",
                created_at=T0 + timedelta(seconds=n),
            )
            batch.append(case_row(case))
            if len(batch) == 1000:
                connection.execute(table.insert(), batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
    engine.dispose()


def per_search_ms(url: str, cases: int, searches: int) -> float:
    """Mean wall time of one search, as an intake near the end of the day makes it."""
    engine = make_engine(url)
    since = T0 + timedelta(seconds=cases) - timedelta(hours=72)
    possible_duplicates(engine, grid="grid-1", category=CATEGORY, since=since, exclude="x")
    started = time.perf_counter()
    for n in range(searches):
        possible_duplicates(
            engine, grid="grid-1", category=CATEGORY, since=since, exclude=f"grievance-B-{n}"
        )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return 1000 * elapsed / searches


def main() -> int:
    """Build the read model, time the search with and without its index."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--tmp-root", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="duplicates-", dir=args.tmp_root) as folder:
        url = sqlite_url_for(Path(folder))
        fill(url, args.cases)
        indexed = per_search_ms(url, args.cases, args.searches)
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("DROP INDEX ix_cases_duplicates")
            connection.commit()
        engine.dispose()
        unindexed = per_search_ms(url, args.cases, max(10, args.searches // 10))
    print(f"{args.cases} open cases in one grid and category:")
    print(f"  with ix_cases_duplicates:    {indexed:8.3f} ms per search")
    print(f"  without it (before 0010):    {unindexed:8.3f} ms per search")
    print(f"  ratio: {unindexed / indexed:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
