"""The intake's duplicate search is answered by its index, not by reading the grid.

In the Beijing-day benchmark the search read every open case of a grid and
sorted them, 79 % of the worker's CPU at 57,000 open cases; these tests fail
without ``ix_cases_duplicates`` (migration 0010).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from grievance_flow.store.projection import project_case
from grievance_flow.store.queries import duplicates_statement, possible_duplicates
from tests.store.factories import T0, make_case

CATEGORY = "city.street-vending"


def plan(engine: Engine) -> str:
    """The database's plan for the search, as text."""
    statement = duplicates_statement(
        grid="grid-1", category=CATEGORY, since=T0, exclude="none", limit=10
    )
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            return "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}").all()
        return "\n".join(str(row[0]) for row in rows)


def test_the_search_walks_its_index_without_a_sort(engine: Engine) -> None:
    shown = plan(engine)
    assert "ix_cases_duplicates" in shown, shown
    assert "TEMP B-TREE" not in shown and "Sort" not in shown, shown


def test_the_newest_open_cases_of_the_grid_and_kind_come_first(engine: Engine) -> None:
    for n in range(15):
        project_case(
            engine,
            make_case(f"D-{n:02}", created_at=T0 + timedelta(minutes=n), category=CATEGORY),
            [],
        )
    project_case(engine, make_case("other-grid", created_at=T0, category="env.noise"), [])
    found = possible_duplicates(
        engine, grid="grid-1", category=CATEGORY, since=T0, exclude="grievance-D-14"
    )
    assert found == [f"grievance-D-{n:02}" for n in range(13, 3, -1)]
    assert sa.inspect(engine).get_indexes("cases")  # the table is indexed at all
