"""Whole-catalogue checks: duplicate ids, the unit tree, and what entries refer to.

These run after the document models checked every entry on its own, because
they need the other entries: a parent defined further down the file, the SLA
classes a policy names, or the grids a territorial category must be able to
route from. Messages name the entry as the document checks do
(``units[3] (id 'grid-9')``).

Tier rule: tiers order A (district) > B (street) > C (community) > D (grid). A
unit must sit at a strictly lower tier than its parent, except a department,
which may share its parent's tier: district bureaus (区城市管理局...) are tier A
departments under the tier A command centre, and escalating their cases goes
to that command centre.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from grievance_flow.catalogue.document import PolicyEntry
from grievance_flow.catalogue.model import (
    Catalogue,
    Category,
    Policy,
    RankingWeights,
    SlaClass,
    Tier,
    Unit,
    UnitKind,
)
from grievance_flow.catalogue.problems import FieldError, entry_label, join

Keyed = TypeVar("Keyed", Unit, Category)


def index_entries(
    section: str, entries: Sequence[Keyed], key: str
) -> tuple[dict[str, Keyed], dict[str, str]]:
    """Key a section's entries by ``key`` (``id``, ``code``), refusing duplicates.

    Returns:
        The entries by key, and each key's entry label for later messages.

    Raises:
        FieldError: Naming the second entry with a key already used.
    """
    by_key: dict[str, Keyed] = {}
    labels: dict[str, str] = {}
    for index, entry in enumerate(entries):
        value: str = getattr(entry, key)
        label = entry_label(join(section, index), key, value)
        if value in by_key:
            raise FieldError(label, f"duplicate {key} {value!r} (already used by {labels[value]})")
        by_key[value] = entry
        labels[value] = label
    return by_key, labels


def check_tree(units: Mapping[str, Unit], labels: Mapping[str, str]) -> None:
    """Require known parents, no cycles, exactly one root, and the tier rule.

    Args:
        units: Parsed units by id.
        labels: Each id's entry label (``units[3] (id 'grid-9')``) for messages.

    Raises:
        FieldError: Naming the first offending entry.
    """
    for unit_id, unit in units.items():
        if unit.parent is not None and unit.parent not in units:
            raise FieldError(labels[unit_id], f"unknown parent {unit.parent!r}")
    _check_cycles(units, labels)
    roots = [unit for unit in units.values() if unit.parent is None]
    if not roots:  # unreachable after the cycle check, kept as a guard
        raise FieldError("units", "no root unit: exactly one unit must have no parent")
    if len(roots) > 1:
        raise FieldError(
            labels[roots[1].id],
            f"second root unit (no parent) besides {roots[0].id!r}; "
            "exactly one unit, the command centre, may have no parent",
        )
    for unit_id, unit in units.items():
        if unit.parent is not None and not _may_sit_under(unit, units[unit.parent]):
            parent = units[unit.parent]
            raise FieldError(
                labels[unit_id],
                f"tier {unit.tier} cannot sit under {parent.id!r} (tier {parent.tier}): "
                "a unit must be at a lower tier than its parent (A > B > C > D); "
                "only a department may share its parent's tier",
            )


def _may_sit_under(unit: Unit, parent: Unit) -> bool:
    if unit.kind == UnitKind.DEPARTMENT:
        return unit.tier.depth >= parent.tier.depth
    return unit.tier.depth > parent.tier.depth


def _check_cycles(units: Mapping[str, Unit], labels: Mapping[str, str]) -> None:
    reaches_root: set[str] = set()  # memo, so the whole check stays linear
    for start in units:
        path: list[str] = []
        current: str | None = start
        while current is not None and current not in reaches_root:
            if current in path:
                loop = [*path[path.index(current) :], current]
                raise FieldError(labels[current], "cycle in parents: " + " -> ".join(loop))
            path.append(current)
            current = units[current].parent
        reaches_root.update(path)


def check_references(catalogue: Catalogue, labels: Mapping[str, str]) -> None:
    """Require every category's SLA class and owner to exist and its route to work.

    Also refuses a keyword listed twice in one category.

    A territorial category must route from *every* grid: a grid without an
    ancestor at the category's tier would strand its cases at dispatch time,
    far from the file that caused it.

    Args:
        catalogue: The assembled catalogue.
        labels: Each category code's entry label for messages.

    Raises:
        FieldError: Naming the first offending category.
    """
    grids = catalogue.units_at(Tier.D)
    for code, category in catalogue.categories.items():
        label = labels[code]
        for index, keyword in enumerate(category.keywords):
            if keyword in category.keywords[:index]:
                raise FieldError(join(f"{label}.keywords", index), f"duplicate keyword {keyword!r}")
        if category.sla not in catalogue.sla_classes:
            known = ", ".join(catalogue.sla_classes)
            raise FieldError(label, f"unknown sla class {category.sla!r} (known: {known})")
        if not category.is_territorial:
            owner = catalogue.units.get(category.owner)
            if owner is None:
                raise FieldError(
                    label,
                    f"unknown owner {category.owner!r}: expected 'territorial' or a unit id",
                )
            if owner.tier != category.tier:
                raise FieldError(
                    label,
                    f"owner {owner.id!r} is a tier {owner.tier} unit "
                    f"but the category's tier is {category.tier}",
                )
            continue
        if not grids:
            raise FieldError(label, "territorial, but the catalogue has no tier D grids")
        for grid in grids:
            if catalogue.ancestor_at(grid.id, category.tier, kind=UnitKind.TERRITORIAL) is None:
                raise FieldError(
                    label,
                    f"territorial at tier {category.tier}, but grid {grid.id!r} "
                    f"has no territorial tier {category.tier} ancestor to route to",
                )


def resolve_policy(entry: PolicyEntry, sla_classes: Mapping[str, SlaClass]) -> Policy:
    """Build the :class:`Policy`, filling ``default_sla`` / ``urgent_sla`` as the model documents.

    Raises:
        FieldError: If either names an SLA class the catalogue lacks.
    """
    # Missing means "use the conventional class if there is one"; an explicit
    # null urgent_sla means "urgent cases keep their category's class".
    default_sla = entry.default_sla
    if default_sla is None:
        default_sla = "complaint" if "complaint" in sla_classes else next(iter(sla_classes))
    urgent_sla = entry.urgent_sla
    if "urgent_sla" not in entry.model_fields_set and "urgent" in sla_classes:
        urgent_sla = "urgent"
    for key, name in (("default_sla", default_sla), ("urgent_sla", urgent_sla)):
        if name is not None and name not in sla_classes:
            known = ", ".join(sla_classes)
            raise FieldError(join("policy", key), f"unknown sla class {name!r} (known: {known})")
    weights = entry.ranking_weights
    return Policy(
        **{
            **dict(entry),
            "default_sla": default_sla,
            "urgent_sla": urgent_sla,
            "ranking_weights": RankingWeights() if weights is None else weights.to_weights(),
        }
    )
