"""Reading Open311 filings and client updates from their forms."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from grievance_flow.catalogue.loader import load_catalogue
from grievance_flow.catalogue.model import AttributeType
from grievance_flow.open311.errors import Open311Error
from grievance_flow.open311.forms import external_id_of, read_filing
from grievance_flow.open311.update_forms import read_update

ZONE = ZoneInfo("Asia/Shanghai")
CATALOGUE = load_catalogue(None)
BASE = [
    ("api_key", "k"),
    ("service_code", "water.supply"),
    ("description", "停水"),
    ("address_string", "湖滨路12号"),
    ("attribute[grid]", "grid-2"),
]


def test_a_filing_keeps_the_answers_the_service_asks_and_drops_the_rest() -> None:
    filing = read_filing(
        [
            *BASE,
            ("first_name", "王"),
            ("last_name", "-"),
            ("attribute[supply_scope]", "area"),
            ("attribute[since]", "2026-12-03T07:00:00+08:00"),
            ("attribute[fixmystreet_id]", "42"),
            ("attribute[easting]", "530000"),
        ],
        CATALOGUE,
        ZONE,
    )
    assert (filing.grid, filing.name, filing.lat) == ("grid-2", "王", None)
    assert filing.answers == {"supply_scope": "area", "since": "2026-12-03T07:00:00+08:00"}


def test_a_multi_value_answer_may_come_either_way() -> None:
    water = CATALOGUE.categories["water.supply"]
    scope = replace(water.attributes[0], datatype=AttributeType.MULTIVALUELIST)
    categories = {**CATALOGUE.categories, "water.supply": replace(water, attributes=(scope,))}
    catalogue = replace(CATALOGUE, categories=categories)
    for name in ("attribute[supply_scope][]", "attribute[supply_scope]"):
        form = [*BASE, (name, "area"), (name, "building"), (name, "area")]
        assert read_filing(form, catalogue, ZONE).answers == {"supply_scope": ["area", "building"]}
    with pytest.raises(Open311Error, match="takes one value"):
        read_filing([*BASE, ("attribute[grid]", "grid-3")], CATALOGUE, ZONE)


def test_the_external_id_follows_the_key_then_the_client_id_then_the_contents() -> None:
    form = [*BASE, ("attribute[fixmystreet_id]", "42")]
    by_report = external_id_of(form, None)
    assert by_report == external_id_of([("api_key", "other"), *form[1:]], None)
    assert by_report == external_id_of([*form[:2], ("description", "改了"), *form[3:]], None)
    assert external_id_of(form, "retry-1") == external_id_of(BASE, "retry-1") != by_report
    assert external_id_of(BASE, None) != external_id_of([*BASE, ("phone", "1")], None)
    assert by_report.startswith("open311-") and "42" not in by_report.removeprefix("open311-")


def test_a_client_update_reads_fixmystreets_fields() -> None:
    update = read_update(
        [
            ("api_key", "k"),
            ("service_request_id", "grievance-1"),
            ("update_id", "248"),
            ("updated_datetime", "2026-12-03T04:00:00Z"),
            ("status", "action scheduled"),
            ("description", "又停水了"),
            ("media_url", "https://a/1.jpg"),
            ("media_url", "https://a/2.jpg"),
        ],
        ZONE,
    )
    assert (update.case_id, update.update_id, update.status) == (
        "grievance-1",
        "248",
        "ACTION_SCHEDULED",
    )
    assert update.media_urls == ["https://a/1.jpg", "https://a/2.jpg"]
    with pytest.raises(Open311Error, match="update_id is longer"):
        read_update(
            [
                ("service_request_id", "g"),
                ("update_id", "x" * 101),
                ("updated_datetime", "2026-12-03T04:00:00Z"),
                ("status", "OPEN"),
                ("description", "d"),
            ],
            ZONE,
        )
