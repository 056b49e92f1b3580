"""Catalogue problems as operators read them: ``units[3] (id 'grid-9').tier: ...``.

The document models (:mod:`grievance_flow.catalogue.document`) report bad
values as pydantic errors located by ``loc`` paths such as ``('units', 3,
'tier')``. This module turns those into :class:`FieldError` values whose path
names list entries by index *and* id, because an operator searches the file by
id but a missing id leaves only the index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
"""Unit ids and category codes: URL-safe, because they appear in paths and Open311."""

TEXT_PATTERN = r"\S"
"""A non-blank string (pydantic and JSON Schema both search, not match, a pattern)."""

_ENTRY_KEYS = ("id", "code")  # what names a list entry (units by id, categories by code)

# pydantic error type -> what the operator is told; ", got <value>" follows.
_PHRASES = {
    "string_type": "must be a non-empty string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "enum": "must be {expected}",
    "literal_error": "must be {expected}",
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "too_short": "must not be empty",
}
_CONTAINERS = {"list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping"}
_PATTERNS = {
    TEXT_PATTERN: "must be a non-empty string",
    IDENTIFIER_PATTERN: "is not a valid id (letters, digits, '.', '_', '-'; no spaces)",
}


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


def entry_label(path: str, key: str, value: object) -> str:
    """Name a list entry by its position and its id: ``units[3] (id 'grid-9')``."""
    return f"{path} ({key} {value!r})"


def type_name(value: object) -> str:
    """Name a value's type the way a YAML author thinks of it."""
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if value is None:
        return "nothing (null)"
    return f"a {type(value).__name__}"


def field_errors(exc: ValidationError, data: object) -> list[FieldError]:
    """Translate every error of ``exc`` into a :class:`FieldError`.

    Args:
        exc: What validating ``data`` against a document model raised.
        data: The raw document, read to name list entries by their ids.
    """
    found: list[FieldError] = []
    for error in exc.errors(include_url=False):
        # Errors in a mapping's key carry a trailing "[key]"; the key itself names the spot.
        loc = [part for part in error["loc"] if part != "[key]"]
        if error["type"] == "missing":
            found.append(FieldError(_path(loc[:-1], data), f"missing required field {loc[-1]!r}"))
        else:
            found.append(FieldError(_path(loc, data), _problem(error)))
    return found


def _path(loc: Sequence[int | str], data: object) -> str:
    path, node = "", data
    for part in loc:
        node = _child(node, part)
        path = join(path, part)
        if isinstance(part, int) and isinstance(node, Mapping):
            key = next((k for k in _ENTRY_KEYS if isinstance(node.get(k), str)), None)
            if key is not None:
                path = entry_label(path, key, node[key])
    return path


def _child(node: object, part: int | str) -> object:
    if isinstance(node, Mapping):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _problem(error: ErrorDetails) -> str:
    kind, value = error["type"], error["input"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "value_error":  # our own validators' sentences, complete as they are
        return str(ctx["error"])
    if kind in _CONTAINERS:
        return f"must be {_CONTAINERS[kind]}, got {type_name(value)}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == IDENTIFIER_PATTERN:
        return f"{value!r} {_PATTERNS[IDENTIFIER_PATTERN]}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERNS:
        phrase = _PATTERNS[ctx["pattern"]]
    else:
        phrase = _PHRASES.get(kind, error["msg"]).format(**ctx)
    return f"{phrase}, got {value!r}"
