"""Open311 documents: the same value as XML and as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest

from grievance_flow.open311.documents import Format, render, to_json, to_xml, w3c

SHANGHAI = timezone(timedelta(hours=8))


def test_xml_uses_item_names_empty_elements_and_w3c_times() -> None:
    value = [
        {
            "service_request_id": "grievance-1",
            "status_notes": None,
            "requested_datetime": datetime(2026, 12, 3, 9, 30, 15, 999, tzinfo=SHANGHAI),
            "lat": 30.5,
        }
    ]
    body = to_xml("service_requests", value)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<service_requests>')
    root = ET.fromstring(body)
    [request] = root
    assert request.tag == "request"
    assert request.findtext("status_notes") == ""
    assert request.findtext("requested_datetime") == "2026-12-03T09:30:15+08:00"
    assert request.findtext("lat") == "30.5"


def test_json_keeps_chinese_readable_and_nulls() -> None:
    body = to_json([{"service_name": "停水", "metadata": True, "group": None}])
    assert "停水".encode() in body
    assert json.loads(body) == [{"service_name": "停水", "metadata": True, "group": None}]


def test_booleans_and_nested_lists_in_xml() -> None:
    definition = {
        "service_code": "water.supply",
        "attributes": [{"variable": True, "values": [{"key": "a", "name": "甲"}]}],
    }
    root = ET.fromstring(to_xml("service_definition", definition))
    attribute = root.find("attributes/attribute")
    assert attribute is not None
    assert attribute.findtext("variable") == "true"
    assert attribute.findtext("values/value/name") == "甲"


def test_a_list_without_an_item_name_is_a_bug_not_a_guess() -> None:
    with pytest.raises(ValueError, match="no item element name for the list <things>"):
        to_xml("things", [1, 2])


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        w3c(datetime(2026, 12, 3, 9, 0))
    assert w3c(datetime(2026, 12, 3, 1, 0, tzinfo=UTC)) == "2026-12-03T01:00:00+00:00"


def test_render_sets_the_media_type() -> None:
    assert render("errors", [], Format.XML).media_type == "text/xml; charset=utf-8"
    assert render("errors", [], Format.JSON, status_code=400).status_code == 400
