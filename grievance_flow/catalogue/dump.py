"""Turn a :class:`Catalogue` back into catalogue-file data.

The API serves this shape at ``GET /v1/catalogue`` and an admin can save it as
a catalogue file: ``parse_catalogue(to_data(c), source=...) == c`` holds, so
what is shown is exactly what is loaded.
"""

from __future__ import annotations

from typing import Any

from grievance_flow.catalogue.model import (
    SLA_STAGES,
    Catalogue,
    Category,
    CategoryAttribute,
    UnitKind,
)


def to_data(catalogue: Catalogue) -> dict[str, Any]:
    """Return ``catalogue`` as plain JSON/YAML-ready data in the file format."""
    units: list[dict[str, Any]] = []
    for unit in catalogue.units.values():
        entry: dict[str, Any] = {"id": unit.id, "name": unit.name, "tier": unit.tier.value}
        if unit.parent is not None:
            entry["parent"] = unit.parent
        if unit.kind != UnitKind.TERRITORIAL:
            entry["kind"] = unit.kind.value
        units.append(entry)
    policy = catalogue.policy
    data: dict[str, Any] = {
        "version": catalogue.version,
        "timezone": catalogue.timezone,
        "units": units,
        "sla_classes": {
            name: {stage: sla.for_stage(stage).to_data() for stage in SLA_STAGES}
            for name, sla in catalogue.sla_classes.items()
        },
        "categories": [_category(c) for c in catalogue.categories.values()],
        "policy": {
            "warn_at": policy.warn_at,
            "escalate_after": policy.escalate_after.to_data(),
            "max_returns": policy.max_returns,
            "max_reopens": policy.max_reopens,
            "auto_dispatch_confidence": policy.auto_dispatch_confidence,
            "default_sla": policy.default_sla,
            "urgent_sla": policy.urgent_sla,
            "ranking_weights": {
                "response": policy.ranking_weights.response,
                "resolution": policy.ranking_weights.resolution,
                "satisfaction": policy.ranking_weights.satisfaction,
            },
        },
    }
    overrides = catalogue.calendar_overrides
    if overrides.holidays or overrides.workdays:
        data["calendar_overrides"] = {
            "holidays": sorted(d.isoformat() for d in overrides.holidays),
            "workdays": sorted(d.isoformat() for d in overrides.workdays),
        }
    return data


def _category(category: Category) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "code": category.code,
        "name": category.name,
        "group": category.group,
        "tier": category.tier.value,
        "owner": category.owner,
        "sla": category.sla,
        "keywords": list(category.keywords),
        "auto_dispatch": category.auto_dispatch,
    }
    if category.attributes:
        entry["attributes"] = [_attribute(a) for a in category.attributes]
    return entry


def _attribute(attribute: CategoryAttribute) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "code": attribute.code,
        "description": attribute.description,
        "datatype": attribute.datatype.value,
        "required": attribute.required,
    }
    if attribute.datatype_description is not None:
        entry["datatype_description"] = attribute.datatype_description
    if attribute.values:
        entry["values"] = [{"key": v.key, "name": v.name} for v in attribute.values]
    return entry
