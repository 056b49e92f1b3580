"""Notices in the read model: stored once, marked delivered once, listed per recipient."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from grievance_flow.store.models import NoticeRecord
from grievance_flow.store.notices import (
    DeliveryStatus,
    NoticeDelivery,
    delivery_of,
    is_delivered,
    list_deliveries,
    list_notices,
    mark_delivered,
    mark_failed,
    mark_retrying,
    record_notice,
)
from grievance_flow.workflows.contracts import Notice, NoticeKind, Role
from tests.store.factories import T0, make_notice


def _delivered_at(engine: Engine, notice_id: str) -> datetime | None:
    with Session(engine) as session:
        record = session.get(NoticeRecord, notice_id)
    assert record is not None
    return record.delivered_at


def test_a_notice_is_stored_once(engine: Engine) -> None:
    notice = make_notice()
    assert record_notice(engine, notice) is True
    # The activity retried: same id, even if rebuilt with other words.
    assert record_notice(engine, notice) is False
    assert record_notice(engine, make_notice(message="changed")) is False

    assert list_notices(engine) == ([notice], 1)
    assert _delivered_at(engine, notice.id) is None


def test_a_notice_comes_back_as_it_went_in_in_utc(engine: Engine) -> None:
    beijing = timezone(timedelta(hours=8))
    notice = make_notice(
        at=T0.astimezone(beijing),
        kind=NoticeKind.ESCALATION,
        unit=None,
        data={"from_unit": "grid-1", "to": None, "tiers": ["D", "C"], "supervised": True},
    )
    record_notice(engine, notice)

    [stored], _ = list_notices(engine)
    assert stored == notice
    assert stored.at.utcoffset() == timedelta(0)
    assert (stored.kind, stored.recipient_role) == (NoticeKind.ESCALATION, Role.DISPATCHER)


def test_a_naive_time_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        record_notice(engine, make_notice(at=datetime(2026, 3, 2, 9, 0)))
    assert list_notices(engine) == ([], 0)


def test_concurrent_attempts_store_it_once(engine: Engine) -> None:
    notice = make_notice()
    outcomes: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def attempt() -> None:
        try:
            start.wait()
            outcomes.append(record_notice(engine, notice))
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == [False] * 5 + [True]
    assert list_notices(engine)[1] == 1


def test_delivery_is_marked_once_at_the_first_time(engine: Engine) -> None:
    notice = make_notice()
    record_notice(engine, notice)
    assert not is_delivered(engine, notice.id)

    first = T0 + timedelta(seconds=3)
    mark_delivered(engine, notice.id, first)
    mark_delivered(engine, notice.id, first + timedelta(minutes=5))  # a re-delivery

    assert is_delivered(engine, notice.id)
    assert _delivered_at(engine, notice.id) == first
    # Recording it again does not reset the delivery.
    assert record_notice(engine, notice) is False
    assert _delivered_at(engine, notice.id) == first


def test_unknown_notices_are_not_delivered(engine: Engine) -> None:
    mark_delivered(engine, "no-such-notice", T0)
    mark_retrying(engine, "no-such-notice", T0, "answered 500")
    mark_failed(engine, "no-such-notice", T0, "answered 404")
    assert not is_delivered(engine, "no-such-notice")
    assert delivery_of(engine, "no-such-notice") is None
    assert list_notices(engine) == ([], 0)


def test_a_new_notice_is_pending_and_untried(engine: Engine) -> None:
    notice = make_notice()
    record_notice(engine, notice)
    assert delivery_of(engine, notice.id) == NoticeDelivery(
        notice=notice,
        status=DeliveryStatus.PENDING,
        attempts=0,
        last_error=None,
        last_attempt_at=None,
        delivered_at=None,
    )


def test_attempts_are_counted_until_delivered(engine: Engine) -> None:
    notice = make_notice()
    record_notice(engine, notice)
    first, second, third = (T0 + timedelta(seconds=n) for n in (1, 3, 7))
    mark_retrying(engine, notice.id, first, "webhook http://h/x answered 500")
    mark_retrying(engine, notice.id, second, "webhook http://h/x answered 502")
    state = delivery_of(engine, notice.id)
    assert state is not None
    assert (state.status, state.attempts, state.last_error, state.last_attempt_at) == (
        DeliveryStatus.RETRYING,
        2,
        "webhook http://h/x answered 502",
        second,
    )
    assert state.delivered_at is None

    mark_delivered(engine, notice.id, third)
    state = delivery_of(engine, notice.id)
    assert state is not None
    assert (state.status, state.attempts, state.delivered_at, state.last_attempt_at) == (
        DeliveryStatus.DELIVERED,
        3,
        third,
        third,
    )
    # What went wrong before it went through stays readable.
    assert state.last_error == "webhook http://h/x answered 502"
    # Recording it again (a retried activity) resets nothing.
    assert record_notice(engine, notice) is False
    assert delivery_of(engine, notice.id) == state


def test_a_final_answer_fails_the_notice_for_good(engine: Engine) -> None:
    notice = make_notice()
    record_notice(engine, notice)
    mark_failed(engine, notice.id, T0, "webhook http://h/x answered 404")
    # Nothing moves a final notice: neither a late retry nor a late delivery.
    mark_retrying(engine, notice.id, T0 + timedelta(seconds=1), "answered 500")
    mark_delivered(engine, notice.id, T0 + timedelta(seconds=2))
    state = delivery_of(engine, notice.id)
    assert state is not None
    assert (state.status, state.attempts, state.last_error, state.delivered_at) == (
        DeliveryStatus.FAILED,
        1,
        "webhook http://h/x answered 404",
        None,
    )
    assert not is_delivered(engine, notice.id)


def test_giving_up_without_an_attempt_counts_none(engine: Engine) -> None:
    notice = make_notice()
    record_notice(engine, notice)
    mark_retrying(engine, notice.id, T0, "answered 503")
    mark_failed(engine, notice.id, T0 + timedelta(days=1), "window spent", attempted=False)
    state = delivery_of(engine, notice.id)
    assert state is not None
    assert (state.status, state.attempts, state.last_attempt_at, state.last_error) == (
        DeliveryStatus.FAILED,
        1,
        T0,
        "window spent",
    )


def test_concurrent_attempts_are_each_counted(engine: Engine) -> None:
    notice = make_notice()
    record_notice(engine, notice)
    start = threading.Barrier(4)

    def attempt() -> None:
        start.wait()
        mark_retrying(engine, notice.id, T0, "answered 500")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state = delivery_of(engine, notice.id)
    assert state is not None and state.attempts == 4


@pytest.fixture
def notices(engine: Engine) -> dict[str, Notice]:
    """Five notices a minute apart (``n1`` oldest), recorded in shuffled order."""

    def minute(n: int) -> datetime:
        return T0 + timedelta(minutes=n)

    made = {
        "n1": make_notice("n1", case_id="c1", unit="grid-1", at=minute(1)),
        "n2": make_notice("n2", case_id="c1", unit="comm-1", at=minute(2),
                          kind=NoticeKind.ESCALATION),
        "n3": make_notice("n3", case_id="c2", unit="grid-1", at=minute(3),
                          kind=NoticeKind.EXTENSION_DECISION),
        "n4": make_notice("n4", case_id="c2", unit=None, at=minute(4),
                          kind=NoticeKind.ESCALATION),
        "n5": make_notice("n5", case_id="c3", unit="grid-2", at=minute(5)),
    }  # fmt: skip
    for name in ("n3", "n5", "n1", "n4", "n2"):
        record_notice(engine, made[name])
    return made


def _ids(result: tuple[list[Notice], int]) -> list[str]:
    return [notice.id for notice in result[0]]


def test_all_notices_newest_first(engine: Engine, notices: dict[str, Notice]) -> None:
    items, total = list_notices(engine)
    assert [n.id for n in items] == ["n5", "n4", "n3", "n2", "n1"]
    assert total == 5
    assert items[0] == notices["n5"]


def test_same_time_is_ordered_by_id(engine: Engine) -> None:
    for name in ("x-b", "x-a", "x-c"):
        record_notice(engine, make_notice(name))
    assert _ids(list_notices(engine)) == ["x-c", "x-b", "x-a"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"unit": "grid-1"}, ["n3", "n1"]),
        ({"role": Role.DISPATCHER}, ["n4"]),
        ({"role": Role.UNIT}, ["n5", "n3", "n2", "n1"]),
        ({"case_id": "c2"}, ["n4", "n3"]),
        ({"case_id": "c2", "unit": "grid-1", "role": Role.UNIT}, ["n3"]),
        ({"case_id": "c1", "unit": "grid-2"}, []),
        ({"unit": "nowhere"}, []),
    ],
)
def test_filters(
    engine: Engine, notices: dict[str, Notice], filters: dict[str, object], expected: list[str]
) -> None:
    items, total = list_notices(engine, **filters)  # type: ignore[arg-type]
    assert [n.id for n in items] == expected
    assert total == len(expected)


def test_filter_by_delivery_status(engine: Engine, notices: dict[str, Notice]) -> None:
    mark_failed(engine, "n2", T0, "answered 410")
    mark_failed(engine, "n4", T0, "answered 404")
    mark_delivered(engine, "n3", T0)
    mark_retrying(engine, "n5", T0, "answered 500")

    failed, total = list_deliveries(engine, status=DeliveryStatus.FAILED)
    assert [(d.notice.id, d.last_error) for d in failed] == [
        ("n4", "answered 404"),
        ("n2", "answered 410"),
    ]
    assert total == 2
    assert _ids(list_notices(engine, status=DeliveryStatus.PENDING)) == ["n1"]
    assert _ids(list_notices(engine, status=DeliveryStatus.DELIVERED)) == ["n3"]
    assert _ids(list_notices(engine, status=DeliveryStatus.RETRYING, case_id="c3")) == ["n5"]
    assert list_notices(engine, status=DeliveryStatus.FAILED, unit="grid-1") == ([], 0)


def test_paging_keeps_the_total(engine: Engine, notices: dict[str, Notice]) -> None:
    pages = [list_notices(engine, limit=2, offset=offset) for offset in (0, 2, 4, 6)]
    assert [_ids(page) for page in pages] == [["n5", "n4"], ["n3", "n2"], ["n1"], []]
    assert {total for _, total in pages} == {5}
    assert list_notices(engine, unit="grid-1", limit=1) == ([notices["n3"]], 2)


def test_negative_paging_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        list_notices(engine, limit=-1)
