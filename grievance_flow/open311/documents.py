"""Open311 documents in the two formats GeoReport v2 speaks: XML and JSON.

A document is plain data: dicts (elements with named children), lists (a
repeated child whose element name :data:`ITEM_NAMES` gives) and scalars. The
same value renders as XML (``<services><service>…``, UTF-8, empty elements for
missing values, as Open311 clients expect) or as JSON (lists and objects,
``null`` for missing values). Datetimes are W3C (ISO 8601) with their offset
in both; booleans are ``true``/``false``; ids are whatever strings the caller
put in (GeoReport ids and codes are strings).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import Response

ITEM_NAMES: Mapping[str, str] = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
}
"""The element name of one item of each list, by the list's own element name."""


_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class Format(StrEnum):
    """The formats every endpoint answers in, by the path's suffix."""

    XML = "xml"
    JSON = "json"

    @property
    def media_type(self) -> str:
        """The response's ``Content-Type`` (UTF-8 either way)."""
        return "text/xml; charset=utf-8" if self is Format.XML else "application/json"


def w3c(moment: datetime) -> str:
    """``moment`` as a W3C datetime with its offset, to the second.

    Raises:
        ValueError: ``moment`` is naive: a W3C datetime must say its offset.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an Open311 datetime must carry its offset")
    return moment.replace(microsecond=0).isoformat()


def _plain(value: Any) -> Any:
    """``value`` with datetimes as W3C strings, ready for either format."""
    if isinstance(value, datetime):
        return w3c(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(name: str, value: Any) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        item_name = ITEM_NAMES.get(name)
        if item_name is None:
            raise ValueError(f"no item element name for the list <{name}>")
        for item in value:
            element.append(_element(item_name, item))
    else:
        element.text = _text(value)
    return element


def to_xml(root: str, value: Any) -> bytes:
    """The document ``value`` as UTF-8 XML under ``<root>``, with the XML declaration."""
    tree = _element(root, _plain(value))
    return _DECLARATION + ET.tostring(tree, encoding="unicode").encode()


def to_json(value: Any) -> bytes:
    """The document ``value`` as UTF-8 JSON (not ASCII-escaped: Chinese stays readable)."""
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":")).encode()


def render(root: str, value: Any, fmt: Format, *, status_code: int = 200) -> Response:
    """The response carrying ``value`` in ``fmt``; ``root`` names the XML root.

    In JSON a list-rooted document is the list itself (``[{…}, …]``) and any
    other the object, as GeoReport v2 shows them.
    """
    body = to_xml(root, value) if fmt is Format.XML else to_json(value)
    return Response(content=body, status_code=status_code, media_type=fmt.media_type)
