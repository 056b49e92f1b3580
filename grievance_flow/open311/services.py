"""Open311 services: one per catalogue category, with the grid and its own attributes.

``service_code`` is the category code. Every service asks ``grid`` (a required
``singlevaluelist`` of the catalogue's D-tier units) first, then whatever the
category's ``attributes`` add, in the catalogue's order.
"""

from __future__ import annotations

from typing import Any

from grievance_flow.catalogue.document import GRID_ATTRIBUTE
from grievance_flow.catalogue.model import (
    AttributeType,
    AttributeValue,
    Catalogue,
    Category,
    CategoryAttribute,
    Tier,
)

GRID_QUESTION = "所在网格 (grid)"
"""The grid attribute's description."""


def service(category: Category) -> dict[str, Any]:
    """The ``services`` entry of ``category``."""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.group}: {category.name}",
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(category.keywords),
        "group": category.group,
    }


def services(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Every category as a service, in catalogue order."""
    return [service(category) for category in catalogue.categories.values()]


def grid_attribute(catalogue: Catalogue) -> CategoryAttribute:
    """The ``grid`` attribute: which of the catalogue's grids the problem is in."""
    return CategoryAttribute(
        code=GRID_ATTRIBUTE,
        description=GRID_QUESTION,
        datatype=AttributeType.SINGLEVALUELIST,
        required=True,
        values=tuple(
            AttributeValue(key=unit.id, name=unit.name)
            for unit in catalogue.units.values()
            if unit.tier is Tier.D
        ),
    )


def attributes_of(catalogue: Catalogue, category: Category) -> tuple[CategoryAttribute, ...]:
    """What a filing in ``category`` is asked: the grid, then the category's own."""
    return (grid_attribute(catalogue), *category.attributes)


def definition(catalogue: Catalogue, category: Category) -> dict[str, Any]:
    """The ``service_definition`` of ``category``."""
    return {
        "service_code": category.code,
        "attributes": [
            _attribute(attribute, order)
            for order, attribute in enumerate(attributes_of(catalogue, category), start=1)
        ],
    }


def _attribute(attribute: CategoryAttribute, order: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "variable": True,
        "code": attribute.code,
        "datatype": attribute.datatype.value,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description,
        "order": order,
        "description": attribute.description,
    }
    if attribute.datatype.is_list:
        entry["values"] = [{"key": value.key, "name": value.name} for value in attribute.values]
    return entry
