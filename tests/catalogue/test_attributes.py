"""Categories' Open311 attributes: loaded, dumped back, and refused with the entry named."""

from __future__ import annotations

from typing import Any

import pytest

from grievance_flow.catalogue import InvalidCatalogueError, parse_catalogue
from grievance_flow.catalogue.dump import to_data
from grievance_flow.catalogue.model import AttributeType, AttributeValue

Data = dict[str, Any]


def _water(data: Data) -> tuple[int, dict[str, Any]]:
    for index, category in enumerate(data["categories"]):
        if category["code"] == "water.supply":
            return index, category
    raise AssertionError("the bundled catalogue has water.supply")


def test_the_bundled_catalogue_asks_water_supply_its_scope(default_data: Data) -> None:
    catalogue = parse_catalogue(default_data, source="x.yaml")
    scope, since = catalogue.categories["water.supply"].attributes
    assert (scope.code, scope.datatype, scope.required) == (
        "supply_scope",
        AttributeType.SINGLEVALUELIST,
        False,
    )
    assert scope.values[0] == AttributeValue(key="household", name="本户")
    assert (since.datatype, since.values) == (AttributeType.DATETIME, ())
    assert catalogue.categories["city.garbage"].attributes == ()
    assert parse_catalogue(to_data(catalogue), source="dump") == catalogue


@pytest.mark.parametrize(
    ("attribute", "problem"),
    [
        (
            {"code": "kind", "description": "类型", "datatype": "singlevaluelist"},
            "a singlevaluelist attribute needs values",
        ),
        (
            {
                "code": "size",
                "description": "管径",
                "datatype": "number",
                "values": [{"key": "a", "name": "甲"}],
            },
            "a number attribute takes no values",
        ),
        (
            {"code": "grid", "description": "网格", "datatype": "string"},
            "'grid' is every category's own attribute",
        ),
        (
            {"code": "kind", "description": "类型", "datatype": "colour"},
            "datatype",
        ),
        (
            {
                "code": "kind",
                "description": "类型",
                "datatype": "multivaluelist",
                "values": [{"key": "a", "name": "甲"}, {"key": "a", "name": "乙"}],
            },
            "duplicate value keys in ['a', 'a']",
        ),
    ],
)
def test_a_bad_attribute_is_refused_with_its_category_named(
    default_data: Data, attribute: dict[str, Any], problem: str
) -> None:
    index, category = _water(default_data)
    category["attributes"] = [attribute]
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="x.yaml")
    message = str(caught.value)
    assert f"categories[{index}] (code 'water.supply').attributes" in message
    assert problem in message


def test_two_attributes_with_one_code_are_refused(default_data: Data) -> None:
    _, category = _water(default_data)
    twice = {"code": "since", "description": "开始时间", "datatype": "datetime"}
    category["attributes"] = [twice, twice]
    with pytest.raises(InvalidCatalogueError, match=r"duplicate attribute codes"):
        parse_catalogue(default_data, source="x.yaml")
