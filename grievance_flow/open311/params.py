"""Open311 query parameters: parsed by hand, so every bad value is an Open311 400.

GeoReport v2's rules for ``GET requests``: ``service_request_id`` (a comma
list) overrides every other filter; ``start_date``/``end_date`` are W3C
datetimes bounding ``requested_datetime``, at most 90 days apart, the most
recent 90 days when neither is given; ``status`` and ``service_code`` are
comma lists. ``page``/``page_size`` page the answer (1000 at most, the spec's
"first 1000").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from grievance_flow.open311.errors import bad_request
from grievance_flow.workflows.contracts import Status

MAX_SPAN = timedelta(days=90)
"""The longest ``start_date``–``end_date`` window GeoReport v2 allows."""

MAX_PAGE_SIZE = 1000
MAX_IDS = 100
"""``service_request_id`` values one call may ask for."""

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_PARAMETER = 2000


def _one(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name)
    if value is None or value.strip() == "":
        return None
    if len(value) > _MAX_PARAMETER:
        raise bad_request(f"{name} is longer than {_MAX_PARAMETER} characters.")
    return value.strip()


def parse_w3c(name: str, value: str, zone: tzinfo) -> datetime:
    """A W3C datetime (``2026-11-01T08:00:00+08:00``, ``…Z``); a bare date is midnight in ``zone``.

    Raises:
        Open311Error: 400 when it is not one, or has a time without an offset.
    """
    if _DATE_ONLY.fullmatch(value):
        try:
            day = datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise bad_request(f"{name} is not a date: {value!r}.") from None
        return datetime.combine(day, time(), tzinfo=zone)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise bad_request(
            f"{name} must be a W3C datetime such as 2026-11-01T08:00:00+08:00, not {value!r}."
        ) from None
    if moment.tzinfo is None:
        raise bad_request(f"{name} must carry its offset (Z or +08:00): {value!r}.")
    return moment


@dataclass(frozen=True)
class Window:
    """A ``start``–``end`` window of at most :data:`MAX_SPAN`, both ends inclusive."""

    start: datetime
    end: datetime


def window(query: Mapping[str, str], now: datetime, zone: tzinfo) -> Window:
    """``start_date``/``end_date`` as a window; the last 90 days when both are absent.

    One bound alone reaches 90 days from it (never past ``now`` for a start).

    Raises:
        Open311Error: 400 for a bad date, an end before the start, or a span over 90 days.
    """
    start_text, end_text = _one(query, "start_date"), _one(query, "end_date")
    start = parse_w3c("start_date", start_text, zone) if start_text else None
    end = parse_w3c("end_date", end_text, zone) if end_text else None
    if start is None and end is None:
        return Window(start=now - MAX_SPAN, end=now)
    if start is None:
        assert end is not None
        return Window(start=end - MAX_SPAN, end=end)
    if end is None:
        return Window(start=start, end=min(start + MAX_SPAN, max(now, start)))
    if end < start:
        raise bad_request("end_date is before start_date.")
    if end - start > MAX_SPAN:
        raise bad_request("start_date and end_date may not span more than 90 days.")
    return Window(start=start, end=end)


def comma_list(query: Mapping[str, str], name: str, *, most: int = MAX_IDS) -> list[str] | None:
    """A comma-delimited parameter's values, or None when it is absent.

    Raises:
        Open311Error: 400 when it lists more than ``most`` values.
    """
    text = _one(query, name)
    if text is None:
        return None
    values = [part.strip() for part in text.split(",") if part.strip()]
    if len(values) > most:
        raise bad_request(f"{name} lists more than {most} values.")
    return values


def statuses(query: Mapping[str, str]) -> Status | None:
    """``status``: ``open``, ``closed`` or both (None: no filter).

    Raises:
        Open311Error: 400 for any other value.
    """
    values = comma_list(query, "status", most=2)
    if not values:
        return None
    chosen = set()
    for value in values:
        if value.lower() not in ("open", "closed"):
            raise bad_request(f"status must be open or closed, not {value!r}.")
        chosen.add(Status(value.lower()))
    return chosen.pop() if len(chosen) == 1 else None


@dataclass(frozen=True)
class Page:
    """``page`` (from 1) and ``page_size``."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.number - 1) * self.size


def page(query: Mapping[str, str], *, default_size: int = MAX_PAGE_SIZE) -> Page:
    """``page`` and ``page_size``.

    Raises:
        Open311Error: 400 unless both are whole numbers in range.
    """
    number = _whole(query, "page", 1, 1, 1_000_000)
    size = _whole(query, "page_size", default_size, 1, MAX_PAGE_SIZE)
    return Page(number=number, size=size)


def _whole(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = _one(query, name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}, not {text!r}.")
    return int(text)
