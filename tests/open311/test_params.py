"""Open311 query parameters: every bad value a 400 that says which."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from grievance_flow.open311.errors import Open311Error
from grievance_flow.open311.params import MAX_SPAN, comma_list, page, parse_w3c, statuses, window
from grievance_flow.workflows.contracts import Status

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)


def test_w3c_forms() -> None:
    assert parse_w3c("d", "2026-11-01T08:00:00Z", ZONE) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert parse_w3c("d", "2026-11-01T16:00:00+08:00", ZONE) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    # A "+" that a query string turned into a space.
    assert parse_w3c("d", "2026-11-01T16:00:00 08:00", ZONE) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    # A bare date is the catalogue's midnight: a Beijing day.
    assert parse_w3c("d", "2026-11-01", ZONE) == datetime(2026, 10, 31, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["yesterday", "2026-13-01", "2026-11-01T25:00:00Z", "2026-11-01T08:00"]
)
def test_bad_datetimes_say_which_parameter(text: str) -> None:
    with pytest.raises(Open311Error) as caught:
        parse_w3c("start_date", text, ZONE)
    assert caught.value.status_code == 400 and "start_date" in caught.value.description


def test_the_window_defaults_and_bounds() -> None:
    assert window({}, NOW, ZONE).start == NOW - MAX_SPAN
    start = {"start_date": "2026-11-30T00:00:00Z"}
    assert window(start, NOW, ZONE).end == NOW  # not past now
    end = {"end_date": "2026-11-30T00:00:00Z"}
    assert window(end, NOW, ZONE).start == datetime(2026, 11, 30, tzinfo=UTC) - MAX_SPAN
    exactly = {"start_date": "2026-09-01T00:00:00Z", "end_date": "2026-11-30T00:00:00Z"}
    assert window(exactly, NOW, ZONE).end - window(exactly, NOW, ZONE).start == MAX_SPAN
    over = {"start_date": "2026-09-01T00:00:00Z", "end_date": "2026-11-30T00:00:01Z"}
    with pytest.raises(Open311Error, match="90 days"):
        window(over, NOW, ZONE)
    backwards = {"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}
    with pytest.raises(Open311Error, match="before"):
        window(backwards, NOW, ZONE)
    assert window({"start_date": " ", "end_date": ""}, NOW, ZONE).end == NOW  # empty = absent


def test_lists_statuses_and_pages() -> None:
    assert comma_list({"service_code": "a, b,,c"}, "service_code") == ["a", "b", "c"]
    assert comma_list({}, "service_code") is None
    with pytest.raises(Open311Error, match="more than 2"):
        comma_list({"x": "a,b,c"}, "x", most=2)
    assert statuses({"status": "Closed"}) is Status.CLOSED
    assert statuses({"status": "open,closed"}) is None
    with pytest.raises(Open311Error, match="open or closed"):
        statuses({"status": "fixed"})
    assert page({}).offset == 0 and page({"page": "3", "page_size": "10"}).offset == 20
    for bad in ({"page": "0"}, {"page_size": "-1"}, {"page_size": "1e3"}):
        with pytest.raises(Open311Error, match="whole number"):
            page(bad)
    with pytest.raises(Open311Error, match="longer than"):
        comma_list({"service_code": "x" * 2001}, "service_code")
