"""GeoReport v2's response structure, written from the spec text, and checks against it.

JSON Schemas (draft 2020-12) per endpoint, narrowed where SPEC §9 decides
(ids and codes as strings, our eight update statuses, no personal fields),
and the XML rules: a UTF-8 declaration, the spec's root and item element
names, no namespaces, ``true``/``false`` booleans, W3C datetimes with their
offset, and the same content as the JSON (mySociety's and the spec's "Spark"
mapping: a list root is a JSON array, an empty element is ``null``).
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema

W3C = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"
_DATETIME = {"type": "string", "pattern": W3C}
_DATETIME_OR_NULL = {"anyOf": [_DATETIME, {"type": "null"}]}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_ID = {"type": "string", "minLength": 1}
_PERSONAL = ["first_name", "last_name", "email", "phone", "reporter", "name"]

DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": {"type": "string"},
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"const": "http://wiki.open311.org/GeoReport_v2"},
                    "url": {"type": "string"},
                    "changeset": {"type": "string"},
                    "type": {"enum": ["production", "test"]},
                    "formats": {
                        "type": "array",
                        "items": {"enum": ["text/xml", "application/json"]},
                        "minItems": 2,
                        "uniqueItems": True,
                    },
                },
            },
        },
    },
}

SERVICES = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ],
        "additionalProperties": False,
        "properties": {
            "service_code": _ID,
            "service_name": {"type": "string", "minLength": 1},
            "description": _TEXT_OR_NULL,
            "metadata": {"const": True},
            "type": {"const": "realtime"},
            "keywords": _TEXT_OR_NULL,
            "group": _TEXT_OR_NULL,
        },
    },
}

SERVICE_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "additionalProperties": False,
    "properties": {
        "service_code": _ID,
        "attributes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": [
                    "variable",
                    "code",
                    "datatype",
                    "required",
                    "datatype_description",
                    "order",
                    "description",
                ],
                "additionalProperties": False,
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": _ID,
                    "datatype": {
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ]
                    },
                    "required": {"type": "boolean"},
                    "datatype_description": _TEXT_OR_NULL,
                    "order": {"type": "integer", "minimum": 1},
                    "description": _TEXT_OR_NULL,
                    "values": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["key", "name"],
                            "additionalProperties": False,
                            "properties": {"key": _ID, "name": {"type": "string"}},
                        },
                    },
                },
                "if": {"properties": {"datatype": {"enum": ["singlevaluelist", "multivaluelist"]}}},
                "then": {"required": ["values"]},
                "else": {"not": {"required": ["values"]}},
            },
        },
    },
}

POSTED = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["service_request_id", "service_notice"],
        "additionalProperties": False,
        "properties": {
            "service_request_id": _ID,
            "service_notice": _TEXT_OR_NULL,
            "account_id": _TEXT_OR_NULL,
        },
    },
}

TOKEN = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "additionalProperties": False,
        "properties": {"service_request_id": _ID, "token": _ID},
    },
}

UPDATE_POSTED = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["update_id"],
        "additionalProperties": False,
        "properties": {"update_id": _ID},
    },
}

REQUEST = {
    "type": "object",
    "required": [
        "service_request_id",
        "status",
        "service_name",
        "service_code",
        "description",
        "requested_datetime",
        "updated_datetime",
        "address",
        "lat",
        "long",
    ],
    "additionalProperties": False,
    "properties": {
        "service_request_id": _ID,
        "status": {"enum": ["open", "closed"]},
        "status_notes": _TEXT_OR_NULL,
        "service_name": _TEXT_OR_NULL,
        "service_code": _TEXT_OR_NULL,
        "description": {"type": ["string", "null"], "maxLength": 4000},
        "agency_responsible": _TEXT_OR_NULL,
        "service_notice": _TEXT_OR_NULL,
        "requested_datetime": _DATETIME,
        "updated_datetime": _DATETIME_OR_NULL,
        "expected_datetime": _DATETIME_OR_NULL,
        "address": _TEXT_OR_NULL,
        "address_id": _TEXT_OR_NULL,
        "zipcode": _TEXT_OR_NULL,
        "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "long": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "media_url": _TEXT_OR_NULL,
    },
}

REQUESTS = {"type": "array", "items": REQUEST}

UPDATES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": [
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
        ],
        "additionalProperties": False,
        "properties": {
            "update_id": _ID,
            "service_request_id": _ID,
            "status": {
                "enum": [
                    "OPEN",
                    "IN_PROGRESS",
                    "ACTION_SCHEDULED",
                    "FIXED",
                    "NO_FURTHER_ACTION",
                    "DUPLICATE",
                    "NOT_COUNCILS_RESPONSIBILITY",
                    "CLOSED",
                ]
            },
            "updated_datetime": _DATETIME,
            "description": _TEXT_OR_NULL,
            "media_url": _TEXT_OR_NULL,
        },
    },
}

ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string"},
            "description": {"type": "string", "minLength": 1},
        },
    },
}

ROOTS = {
    "discovery": ("discovery", None),
    "services": ("services", "service"),
    "service_definition": ("service_definition", None),
    "service_requests": ("service_requests", "request"),
    "service_request_updates": ("service_request_updates", "request_update"),
    "errors": ("errors", "error"),
}
"""Each document's XML root and, for a list document, its item element."""

_LISTS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
_NUMBERS = {"lat", "long", "order"}
_BOOLEANS = {"metadata", "variable", "required"}


def valid_json(document: Any, schema: dict[str, Any]) -> None:
    """Raise unless ``document`` follows ``schema``; also never a personal field."""
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    items = document if isinstance(document, list) else [document]
    for item in items:
        if isinstance(item, dict):
            assert not set(item) & set(_PERSONAL), sorted(set(item) & set(_PERSONAL))


def _spark(element: ET.Element, name: str) -> Any:
    """An XML element as the JSON the spec maps it to (lists by their item names)."""
    if name in _LISTS:
        return [_spark(child, child.tag) for child in element]
    if len(element):
        return {child.tag: _spark(child, child.tag) for child in element}
    text = element.text
    if text is None or text == "":
        return [] if name in _LISTS else None
    if name in _BOOLEANS:
        assert text in ("true", "false"), f"<{name}> is {text!r}"
        return text == "true"
    if name in _NUMBERS:
        return int(text) if name == "order" else float(text)
    return text


def parse_xml(body: bytes, document: str) -> Any:
    """Check ``body`` is the XML of ``document`` and return its JSON equivalent."""
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), body[:60]
    root = ET.fromstring(body)
    expected_root, item = ROOTS[document]
    assert root.tag == expected_root, root.tag
    for element in root.iter():
        assert "{" not in element.tag, f"namespaced element {element.tag}"
        assert not element.attrib, f"<{element.tag}> carries XML attributes"
    if item is None:
        return {child.tag: _spark(child, child.tag) for child in root}
    assert all(child.tag == item for child in root), [child.tag for child in root]
    return [_spark(child, child.tag) for child in root]


def same_content(xml_value: Any, json_value: Any) -> None:
    """The XML (as :func:`parse_xml` maps it) says what the JSON says."""
    assert _normal(xml_value) == _normal(json_value)


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def is_w3c(text: str) -> bool:
    """Whether ``text`` is a W3C datetime with its offset."""
    return re.fullmatch(W3C, text) is not None
