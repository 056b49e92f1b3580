"""Field-level parsing shared by the catalogue loader and the calendar-overrides file.

Each helper takes the raw value (as YAML or JSON decoded it) and the *path* of
that value in the document (``sla_classes.complaint.handle``), and raises
:class:`FieldError` naming that path. The callers add the file name, so an
operator reading ``catalogue x.yaml: units[3] (id 'grid-9'): unknown parent
'comm-99'`` knows exactly which line to fix.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from grievance_flow.catalogue.model import CalendarOverrides, Duration, DurationUnit

IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""Unit ids and category codes: URL-safe, because they appear in paths and Open311."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION_SHAPE = "{seconds|minutes|hours|working_days: positive integer}"
_DURATION_UNITS = frozenset(unit.value for unit in DurationUnit)


class FieldError(ValueError):
    """One bad value: where it is (``path``) and what is wrong (``problem``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


def join(path: str, key: str | int) -> str:
    """Return the path of a mapping key (``a.b``) or list index (``a[2]``) below ``path``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def type_name(value: object) -> str:
    """Name a value's type the way a YAML author thinks of it."""
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if value is None:
        return "nothing (null)"
    return f"a {type(value).__name__}"


def as_mapping(value: object, path: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a mapping with string keys, else raise."""
    if not isinstance(value, Mapping):
        raise FieldError(path, f"must be a mapping, got {type_name(value)}")
    for key in value:
        if not isinstance(key, str):
            raise FieldError(path, f"keys must be strings, got {key!r}")
    return value


def as_list(value: object, path: str) -> list[Any]:
    """Return ``value`` if it is a list, else raise."""
    if not isinstance(value, list):
        raise FieldError(path, f"must be a list, got {type_name(value)}")
    return value


def check_keys(
    mapping: Mapping[str, Any],
    path: str,
    *,
    required: Collection[str],
    optional: Collection[str] = (),
) -> None:
    """Reject missing required keys and unknown keys.

    Unknown keys are errors rather than ignored because a misspelt optional
    field (``auto_dispach``) would otherwise silently take its default.
    """
    for key in required:
        if key not in mapping:
            raise FieldError(path, f"missing required field {key!r}")
    allowed = set(required) | set(optional)
    for key in mapping:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise FieldError(path, f"unknown field {key!r} (expected: {expected})")


def as_text(value: object, path: str) -> str:
    """Return a non-blank string, else raise."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError(path, f"must be a non-empty string, got {value!r}")
    return value


def as_identifier(value: object, path: str) -> str:
    """Return a URL-safe identifier (letters, digits, ``.``, ``_``, ``-``), else raise."""
    text = as_text(value, path)
    if not IDENTIFIER.fullmatch(text):
        raise FieldError(
            path, f"{text!r} is not a valid id (letters, digits, '.', '_', '-'; no spaces)"
        )
    return text


def as_int(value: object, path: str, *, minimum: int) -> int:
    """Return an integer >= ``minimum`` (booleans are not integers here), else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FieldError(path, f"must be an integer >= {minimum}, got {value!r}")
    return value


def as_number(value: object, path: str) -> float:
    """Return an int or float (not a boolean) as a float, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(path, f"must be a number, got {value!r}")
    return float(value)


def as_bool(value: object, path: str) -> bool:
    """Return a real boolean, else raise (``"yes"`` the string is not accepted)."""
    if not isinstance(value, bool):
        raise FieldError(path, f"must be true or false, got {value!r}")
    return value


def parse_duration(value: object, path: str) -> Duration:
    """Parse ``{unit: n}`` with exactly one unit of the four and a positive integer."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((unit, amount),) = value.items()
        if (
            unit in _DURATION_UNITS
            and isinstance(amount, int)
            and not isinstance(amount, bool)
            and amount > 0
        ):
            return Duration(DurationUnit(unit), amount)
    shown = dict(value) if isinstance(value, Mapping) else value
    raise FieldError(path, f"a duration must be exactly one of {_DURATION_SHAPE}, got {shown!r}")


def parse_date(value: object, path: str) -> date:
    """Parse a date written ``YYYY-MM-DD`` (YAML may already have made it a date)."""
    # datetime is a date subclass; a timestamp here is a mistake, not a day.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldError(path, f"must be a date written YYYY-MM-DD, got {value!r}")


def parse_dates(value: object, path: str) -> frozenset[date]:
    """Parse a list of dates."""
    return frozenset(parse_date(item, join(path, i)) for i, item in enumerate(as_list(value, path)))


def parse_calendar_overrides(value: object, path: str) -> CalendarOverrides:
    """Parse ``{holidays: [YYYY-MM-DD...], workdays: [...]}``; both lists optional."""
    mapping = as_mapping(value, path)
    check_keys(mapping, path, required=(), optional=("holidays", "workdays"))
    holidays = parse_dates(mapping.get("holidays", []), join(path, "holidays"))
    workdays = parse_dates(mapping.get("workdays", []), join(path, "workdays"))
    both = sorted(holidays & workdays)
    if both:
        raise FieldError(
            path,
            f"{both[0].isoformat()} is listed both as a holiday and as a working day",
        )
    return CalendarOverrides(holidays=holidays, workdays=workdays)
