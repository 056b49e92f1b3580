"""Lists, filters, paging and timelines as the API serves them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from grievance_flow.store.projection import project_case
from grievance_flow.store.queries import case_events, case_timeline, get_case, list_cases
from grievance_flow.workflows.contracts import CaseView, Stage
from tests.store.factories import T0, make_case, make_events

NOW = T0 + timedelta(days=2)
"""The fixed "now" of these tests: two days after the first case was filed."""


@pytest.fixture
def cases(engine: Engine) -> dict[str, CaseView]:
    """Six cases, one hour apart (``c1`` oldest), projected in shuffled order."""

    def hour(n: int) -> timedelta:
        return timedelta(hours=n)

    made = {
        # overdue: handle clock ran out a day ago
        "c1": make_case("c1", stage=Stage.HANDLE, unit="grid-1", created_at=T0, due_in_hours=24),
        # on time: due long after NOW
        "c2": make_case("c2", stage=Stage.HANDLE, unit="grid-2", created_at=T0 + hour(1),
                        due_in_hours=24 * 10),
        # overdue, accept stage, another category
        "c3": make_case("c3", stage=Stage.ACCEPT, unit="grid-1", category="env.noise",
                        created_at=T0 + hour(2), due_in_hours=2),
        # closed long ago: never overdue
        "c4": make_case("c4", stage=Stage.CLOSED, unit="grid-1", created_at=T0 + hour(3)),
        # waiting for a dispatcher, no unit yet, overdue
        "c5": make_case("c5", stage=Stage.CLASSIFY, unit=None, category=None,
                        created_at=T0 + hour(4), due_in_hours=0.5),
        # just filed, no clock yet
        "c6": make_case("c6", stage=Stage.REPORT, unit=None, category=None,
                        created_at=T0 + hour(5), due_in_hours=None),
    }  # fmt: skip
    for name in ("c4", "c1", "c6", "c3", "c2", "c5"):
        project_case(engine, made[name], [])
    return made


def _ids(result: tuple[list[CaseView], int]) -> list[str]:
    return [case.external_id for case in result[0]]


def test_all_cases_newest_first(engine: Engine, cases: dict[str, CaseView]) -> None:
    items, total = list_cases(engine, now=NOW)
    assert [c.external_id for c in items] == ["c6", "c5", "c4", "c3", "c2", "c1"]
    assert total == 6
    assert items[-1] == cases["c1"]


def test_same_created_at_is_ordered_by_id(engine: Engine) -> None:
    for name in ("x-b", "x-a", "x-c"):
        project_case(engine, make_case(name), [])
    assert _ids(list_cases(engine, now=NOW)) == ["x-c", "x-b", "x-a"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"stage": Stage.HANDLE}, ["c2", "c1"]),
        ({"unit": "grid-1"}, ["c4", "c3", "c1"]),
        ({"category": "env.noise"}, ["c3"]),
        ({"stage": Stage.HANDLE, "unit": "grid-1"}, ["c1"]),
        ({"overdue": True}, ["c5", "c3", "c1"]),
        ({"overdue": False}, ["c6", "c4", "c2"]),
        ({"overdue": True, "unit": "grid-1"}, ["c3", "c1"]),
        ({"unit": "nowhere"}, []),
    ],
)
def test_filters(
    engine: Engine, cases: dict[str, CaseView], filters: dict[str, object], expected: list[str]
) -> None:
    items, total = list_cases(engine, now=NOW, **filters)  # type: ignore[arg-type]
    assert [c.external_id for c in items] == expected
    assert total == len(expected)


def test_overdue_is_judged_at_the_given_now(engine: Engine, cases: dict[str, CaseView]) -> None:
    assert _ids(list_cases(engine, overdue=True, now=T0)) == []
    later = T0 + timedelta(days=30)
    assert _ids(list_cases(engine, overdue=True, now=later)) == ["c5", "c3", "c2", "c1"]


def test_paging_keeps_the_total(engine: Engine, cases: dict[str, CaseView]) -> None:
    pages = [list_cases(engine, now=NOW, limit=4, offset=offset) for offset in (0, 4, 8)]
    assert [_ids(page) for page in pages] == [["c6", "c5", "c4", "c3"], ["c2", "c1"], []]
    assert {total for _, total in pages} == {6}
    assert list_cases(engine, stage=Stage.HANDLE, now=NOW, limit=1) == ([cases["c2"]], 2)


def test_negative_paging_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        list_cases(engine, now=NOW, offset=-1)


def test_get_case_returns_exactly_what_was_projected(
    engine: Engine, cases: dict[str, CaseView]
) -> None:
    for case in cases.values():
        assert get_case(engine, case.id) == case
    assert get_case(engine, "grievance-unknown") is None


def test_events_come_oldest_first(engine: Engine) -> None:
    case = make_case(last_seq=5)
    events = make_events(5)
    # The later batch lands first, as with a retried earlier projection.
    project_case(engine, case, events[3:])
    project_case(engine, case, events[:3])

    assert case_events(engine, case.id) == events
    assert case_events(engine, "grievance-unknown") == []


def test_involving_lists_assigned_and_summoned_cases(engine: Engine) -> None:
    assigned = make_case("inv-assigned", unit="grid-1", co_units=[])
    summoned = make_case(
        "inv-summoned",
        unit="grid-2",
        co_units=["dept-cg", "grid-1"],
        created_at=T0 + timedelta(hours=1),
    )
    elsewhere = make_case(
        "inv-elsewhere", unit="grid-2", co_units=["dept-cg"], created_at=T0 + timedelta(hours=2)
    )
    # A unit id that is a prefix or a JSON-looking fragment of another must not match.
    lookalike = make_case("inv-lookalike", unit="grid-2", co_units=["grid-10", '"grid-1"'],
                          created_at=T0 + timedelta(hours=3))  # fmt: skip
    for case in (assigned, summoned, elsewhere, lookalike):
        project_case(engine, case, [])

    assert _ids(list_cases(engine, now=NOW, involving="grid-1")) == ["inv-summoned", "inv-assigned"]
    assert _ids(list_cases(engine, now=NOW, involving="dept-cg")) == [
        "inv-elsewhere",
        "inv-summoned",
    ]
    # unit= keeps meaning "assigned to".
    assert _ids(list_cases(engine, now=NOW, unit="grid-1")) == ["inv-assigned"]
    assert list_cases(engine, now=NOW, involving="grid-1", unit="grid-2", limit=5) == (
        [summoned],
        1,
    )
    assert list_cases(engine, now=NOW, involving="nowhere") == ([], 0)


def test_events_page_after_a_seq(engine: Engine) -> None:
    case = make_case(last_seq=7)
    events = make_events(7)
    project_case(engine, case, events)

    assert case_events(engine, case.id, after_seq=2, limit=3) == events[2:5]
    assert case_events(engine, case.id, after_seq=5) == events[5:]
    assert case_events(engine, case.id, after_seq=7) == []
    page = case_timeline(engine, case.id, after_seq=4, limit=2)
    assert page is not None
    assert (page.events, page.last_seq) == (events[4:6], 7)
    assert case_timeline(engine, "grievance-unknown", after_seq=0, limit=10) is None
