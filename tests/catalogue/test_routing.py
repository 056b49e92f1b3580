"""Routing, tree lookups and SLA selection on the bundled catalogue."""

from __future__ import annotations

import pytest

from grievance_flow.catalogue import (
    Catalogue,
    RoutingError,
    Tier,
    UnknownCategoryError,
    UnknownUnitError,
)


@pytest.mark.parametrize(
    ("category", "grid", "unit"),
    [
        ("city.street-vending", "grid-1", "grid-1"),  # territorial D: the grid itself
        ("fire.hazard", "grid-8", "grid-8"),
        ("city.garbage", "grid-3", "comm-2"),  # territorial C: the community
        ("build.illegal-construction", "grid-6", "comm-3"),
        ("build.public-space", "grid-4", "street-1"),  # territorial B: the street
        ("culture.sports-facilities", "grid-7", "street-2"),
        ("market.food-safety", "grid-2", "dept-sj"),  # a department owns it
        ("water.supply", "grid-5", "dept-hs"),
    ],
)
def test_route(catalogue: Catalogue, category: str, grid: str, unit: str) -> None:
    assert catalogue.route(category, grid).id == unit


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("grid-99", "grid 'grid-99' is not a unit of the catalogue"),
        ("comm-1", "'comm-1' is a tier C unit, not a tier D grid"),
    ],
)
def test_route_rejects_a_bad_grid(catalogue: Catalogue, grid: str, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        catalogue.route("city.street-vending", grid)
    # The grid must be in the district even when a department owns the category.
    with pytest.raises(RoutingError):
        catalogue.route("market.food-safety", grid)


def test_route_rejects_an_unknown_category(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownCategoryError, match=r"unknown category 'city\.nope'"):
        catalogue.route("city.nope", "grid-1")


def test_tree_lookups(catalogue: Catalogue) -> None:
    chain = [u.id for u in catalogue.ancestors("grid-4")]
    assert chain == ["grid-4", "comm-2", "street-1", "district"]
    assert catalogue.parent("grid-4") == catalogue.unit("comm-2")
    assert catalogue.parent("district") is None
    assert catalogue.ancestor_at("grid-4", Tier.B) == catalogue.unit("street-1")
    assert catalogue.ancestor_at("comm-2", Tier.D) is None
    assert catalogue.ancestor_at("dept-cg", Tier.A) == catalogue.unit("dept-cg")


def test_unknown_unit_is_a_sentence_not_a_key_error(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownUnitError, match="unknown unit 'grid-0'") as caught:
        catalogue.parent("grid-0")
    assert not isinstance(caught.value, KeyError)


def test_sla_for(catalogue: Catalogue) -> None:
    assert catalogue.sla_for("land.planning", urgent=False).name == "consult"
    assert catalogue.sla_for("land.planning", urgent=True).name == "urgent"
    assert catalogue.sla_for(None, urgent=False).name == "complaint"
    assert catalogue.sla_for(None, urgent=True).name == "urgent"
    with pytest.raises(UnknownCategoryError):
        catalogue.sla_for("nope", urgent=True)


def test_sla_stage_lookup(catalogue: Catalogue) -> None:
    complaint = catalogue.sla_class("complaint")
    assert str(complaint.for_stage("handle")) == "15 working days"
    assert str(complaint.for_stage("report_in")) == "4 hours"
    with pytest.raises(ValueError, match="'closed' has no SLA clock"):
        complaint.for_stage("closed")


def test_timezone_info(catalogue: Catalogue) -> None:
    assert catalogue.timezone_info.key == "Asia/Shanghai"
