"""CaseView and Event to and from JSON-able dicts, for the read model's JSON columns.

Decoding uses ``temporalio.converter.value_to_type``, the same function the
Temporal data converter applies to workflow payloads, so a case rebuilt from
the read model has exactly the types a case read from Temporal has. Encoding is
our own: Temporal's encoder keeps datetimes in whatever zone they came in and
enum members as members, while stored documents should be plain JSON in UTC.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from temporalio.converter import value_to_type

from grievance_flow.workflows.contracts import CaseView, Event


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON data.

    Dataclasses become dicts of their fields (in field order), enums their
    values, datetimes ISO 8601 strings in UTC; dicts (keys sorted), lists and
    tuples are converted element-wise.

    Raises:
        ValueError: A datetime is naive (its instant would be a guess).
        TypeError: A value has no JSON form.
    """
    # Enums first: a StrEnum member is also a str, but should be stored as a plain one.
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; make it aware")
        return value.astimezone(UTC).isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        # Keys sorted: a stored document is the same whichever data converter
        # delivered the case (the SDK's default one sorts every mapping, the
        # pydantic one keeps insertion order), so a rebuild matches the live rows.
        plain = {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
        return dict(sorted(plain.items()))
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


def case_to_dict(case: CaseView) -> dict[str, Any]:
    """Serialise a CaseView for the ``cases.doc`` column."""
    doc: dict[str, Any] = to_jsonable(case)
    return doc


def case_from_dict(doc: Mapping[str, Any]) -> CaseView:
    """Rebuild a CaseView from :func:`case_to_dict` output.

    Raises:
        TypeError: ``doc`` does not describe a CaseView.
    """
    case: CaseView = value_to_type(CaseView, dict(doc))
    return case


def event_to_dict(event: Event) -> dict[str, Any]:
    """Serialise an Event to a JSON-able dict (``data`` must already be JSON-able)."""
    data: dict[str, Any] = to_jsonable(event)
    return data
