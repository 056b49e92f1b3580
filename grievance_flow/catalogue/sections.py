"""Parsers for the sections of a catalogue document: units, SLA classes, categories, policy.

Each returns model values or raises :class:`FieldError` naming the entry, e.g.
``units[3] (id 'grid-9')``: list entries are named by index *and* id, because an
operator searches the file by id but a missing id leaves only the index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grievance_flow.catalogue.fields import (
    FieldError,
    as_bool,
    as_identifier,
    as_int,
    as_list,
    as_mapping,
    as_number,
    as_text,
    check_keys,
    join,
    parse_duration,
)
from grievance_flow.catalogue.model import (
    SLA_STAGES,
    TERRITORIAL,
    Category,
    Policy,
    SlaClass,
    Tier,
    Unit,
    UnitKind,
)

_TIERS = ", ".join(tier.value for tier in Tier)
_KIND_VALUES = frozenset(kind.value for kind in UnitKind)
_KINDS = ", ".join(sorted(_KIND_VALUES))


def entry_label(section: str, index: int, raw: Mapping[str, Any], key: str) -> str:
    """Name list entry ``index`` of ``section`` by its position and, if usable, its id."""
    label = join(section, index)
    value = raw.get(key)
    return f"{label} ({key} {value!r})" if isinstance(value, str) else label


def parse_tier(value: object, path: str) -> Tier:
    """Parse one of ``A``, ``B``, ``C``, ``D``."""
    if isinstance(value, str) and value in Tier.__members__:
        return Tier(value)
    raise FieldError(path, f"tier must be one of {_TIERS}, got {value!r}")


def parse_units(value: object) -> tuple[dict[str, Unit], dict[str, str]]:
    """Parse the ``units`` list into units by id, plus each id's entry label.

    Only the entries themselves are checked here; the tree is checked by
    :func:`grievance_flow.catalogue.tree.check_tree`.
    """
    units: dict[str, Unit] = {}
    labels: dict[str, str] = {}
    entries = as_list(value, "units")
    if not entries:
        raise FieldError("units", "must list at least one unit")
    for index, item in enumerate(entries):
        raw = as_mapping(item, join("units", index))
        label = entry_label("units", index, raw, "id")
        check_keys(raw, label, required=("id", "name", "tier"), optional=("parent", "kind"))
        unit_id = as_identifier(raw["id"], join(label, "id"))
        if unit_id == TERRITORIAL:
            raise FieldError(label, f"{TERRITORIAL!r} is reserved (a category owner value)")
        if unit_id in units:
            raise FieldError(label, f"duplicate id {unit_id!r} (already used by {labels[unit_id]})")
        parent = raw.get("parent")
        kind = raw.get("kind", UnitKind.TERRITORIAL.value)
        if not isinstance(kind, str) or kind not in _KIND_VALUES:
            raise FieldError(join(label, "kind"), f"must be one of {_KINDS}, got {kind!r}")
        units[unit_id] = Unit(
            id=unit_id,
            name=as_text(raw["name"], join(label, "name")),
            tier=parse_tier(raw["tier"], join(label, "tier")),
            parent=None if parent is None else as_identifier(parent, join(label, "parent")),
            kind=UnitKind(kind),
        )
        labels[unit_id] = label
    return units, labels


def parse_sla_classes(value: object) -> dict[str, SlaClass]:
    """Parse the ``sla_classes`` mapping; every class must define all five clocks."""
    raw = as_mapping(value, "sla_classes")
    if not raw:
        raise FieldError("sla_classes", "must define at least one SLA class")
    classes: dict[str, SlaClass] = {}
    for name, body in raw.items():
        path = join("sla_classes", name)
        as_identifier(name, path)
        stages = as_mapping(body, path)
        check_keys(stages, path, required=SLA_STAGES)
        durations = {
            stage: parse_duration(stages[stage], join(path, stage)) for stage in SLA_STAGES
        }
        classes[name] = SlaClass(name=name, **durations)
    return classes


def parse_categories(value: object) -> tuple[dict[str, Category], dict[str, str]]:
    """Parse the ``categories`` list into categories by code, plus each code's label.

    References (SLA class, owner, routability) are checked later, once the whole
    catalogue is known.
    """
    categories: dict[str, Category] = {}
    labels: dict[str, str] = {}
    entries = as_list(value, "categories")
    if not entries:
        raise FieldError("categories", "must list at least one category")
    for index, item in enumerate(entries):
        raw = as_mapping(item, join("categories", index))
        label = entry_label("categories", index, raw, "code")
        check_keys(
            raw,
            label,
            required=("code", "name", "group", "tier", "sla"),
            optional=("owner", "keywords", "auto_dispatch"),
        )
        code = as_identifier(raw["code"], join(label, "code"))
        if code in categories:
            raise FieldError(label, f"duplicate code {code!r} (already used by {labels[code]})")
        owner = raw.get("owner", TERRITORIAL)
        categories[code] = Category(
            code=code,
            name=as_text(raw["name"], join(label, "name")),
            group=as_text(raw["group"], join(label, "group")),
            tier=parse_tier(raw["tier"], join(label, "tier")),
            owner=as_identifier(owner, join(label, "owner")),
            sla=as_identifier(raw["sla"], join(label, "sla")),
            keywords=parse_keywords(raw.get("keywords", []), join(label, "keywords")),
            auto_dispatch=as_bool(raw.get("auto_dispatch", False), join(label, "auto_dispatch")),
        )
        labels[code] = label
    return categories, labels


def parse_keywords(value: object, path: str) -> tuple[str, ...]:
    """Parse a list of distinct non-blank keyword strings."""
    keywords: list[str] = []
    for index, item in enumerate(as_list(value, path)):
        keyword = as_text(item, join(path, index)).strip()
        if keyword in keywords:
            raise FieldError(join(path, index), f"duplicate keyword {keyword!r}")
        keywords.append(keyword)
    return tuple(keywords)


def parse_policy(value: object, sla_classes: Mapping[str, SlaClass]) -> Policy:
    """Parse ``policy``, filling ``default_sla`` / ``urgent_sla`` as the model documents."""
    raw = as_mapping(value, "policy")
    check_keys(
        raw,
        "policy",
        required=(
            "warn_at",
            "escalate_after",
            "max_returns",
            "max_reopens",
            "auto_dispatch_confidence",
        ),
        optional=("default_sla", "urgent_sla"),
    )
    warn_at = as_number(raw["warn_at"], "policy.warn_at")
    if not 0 < warn_at < 1:
        raise FieldError("policy.warn_at", f"must be strictly between 0 and 1, got {warn_at!r}")
    confidence = as_number(raw["auto_dispatch_confidence"], "policy.auto_dispatch_confidence")
    if not 0 <= confidence <= 1:
        raise FieldError(
            "policy.auto_dispatch_confidence", f"must be between 0 and 1, got {confidence!r}"
        )
    # Missing means "use the conventional class if there is one"; an explicit
    # null urgent_sla means "urgent cases keep their category's class".
    first = next(iter(sla_classes))
    default_sla = raw.get("default_sla", "complaint" if "complaint" in sla_classes else first)
    urgent_sla = raw.get("urgent_sla", "urgent" if "urgent" in sla_classes else None)
    for key, name in (("default_sla", default_sla), ("urgent_sla", urgent_sla)):
        if name is None and key == "urgent_sla":
            continue
        if not isinstance(name, str) or name not in sla_classes:
            known = ", ".join(sla_classes)
            raise FieldError(join("policy", key), f"unknown sla class {name!r} (known: {known})")
    return Policy(
        warn_at=warn_at,
        escalate_after=parse_duration(raw["escalate_after"], "policy.escalate_after"),
        max_returns=as_int(raw["max_returns"], "policy.max_returns", minimum=0),
        max_reopens=as_int(raw["max_reopens"], "policy.max_reopens", minimum=0),
        auto_dispatch_confidence=confidence,
        default_sla=default_sla,
        urgent_sla=urgent_sla,
    )
