"""Load and validate a catalogue file (SPEC §3).

Every rejection is an :class:`InvalidCatalogueError` whose message starts with
the file and names the entry, e.g. ``catalogue default.yaml: units[3] (id
'grid-9'): unknown parent 'comm-99'``: the catalogue is edited by operators,
and a loader that only said "invalid" would send them hunting.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import ValidationError

from grievance_flow.catalogue.checks import (
    check_references,
    check_tree,
    index_entries,
    resolve_policy,
)
from grievance_flow.catalogue.document import CatalogueDocument
from grievance_flow.catalogue.errors import InvalidCatalogueError
from grievance_flow.catalogue.model import CalendarOverrides, Catalogue
from grievance_flow.catalogue.problems import FieldError, field_errors, type_name

DEFAULT_CATALOGUE = "default.yaml"
"""File name of the bundled catalogue inside this package."""

_SHOWN_PROBLEMS = 20  # a wrong indent can fail every entry; the first ones locate it


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys.

    Plain PyYAML keeps the last of two equal keys, so a second ``complaint:``
    SLA class would silently replace the first.
    """


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def read_catalogue_data(path: Path | None = None) -> tuple[Any, str]:
    """Read a catalogue file's raw data without validating it.

    Args:
        path: A YAML (or JSON) file; None for the bundled default.

    Returns:
        The decoded document and the source name used in error messages.

    Raises:
        InvalidCatalogueError: If the file is not valid YAML.
        OSError: If the file cannot be read.
    """
    if path is None:
        source = DEFAULT_CATALOGUE
        text = (
            resources.files("grievance_flow.catalogue")
            .joinpath(DEFAULT_CATALOGUE)
            .read_text("utf-8")
        )
    else:
        source = str(path)
        text = Path(path).read_text("utf-8")
    try:
        # _StrictLoader is a SafeLoader: no arbitrary Python objects.
        return yaml.load(text, Loader=_StrictLoader), source
    except yaml.YAMLError as exc:
        raise InvalidCatalogueError(f"catalogue {source}: not valid YAML: {exc}") from exc


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate a catalogue file.

    Args:
        path: The file (``--catalogue FILE`` / ``CATALOGUE``); None for the bundled default.

    Raises:
        InvalidCatalogueError: Naming the file and the bad entry.
        OSError: If the file cannot be read.
    """
    data, source = read_catalogue_data(path)
    return parse_catalogue(data, source=source)


def parse_catalogue(data: object, *, source: str) -> Catalogue:
    """Validate decoded catalogue data and build the :class:`Catalogue`.

    Args:
        data: The document as YAML or JSON decoded it; a saved ``GET /v1/catalogue``
            answer too (its read-only ``calendar`` report is ignored).
        source: What to call the document in error messages (usually its path).

    Raises:
        InvalidCatalogueError: Naming ``source`` and the bad entry; when several
            entries are bad, one line each.
    """
    if not isinstance(data, dict):
        problem = f"the catalogue must be a mapping, got {type_name(data)}"
        raise InvalidCatalogueError(f"catalogue {source}: {problem}")
    try:
        document = CatalogueDocument.model_validate(data)
    except ValidationError as exc:
        problems = field_errors(exc, data)
        lines = [f"catalogue {source}: {problem}" for problem in problems[:_SHOWN_PROBLEMS]]
        if len(problems) > _SHOWN_PROBLEMS:
            lines.append(f"catalogue {source}: ... and {len(problems) - _SHOWN_PROBLEMS} more")
        raise InvalidCatalogueError("\n".join(lines)) from None
    try:
        return _build(document)
    except FieldError as exc:
        raise InvalidCatalogueError(f"catalogue {source}: {exc}") from exc


def _build(document: CatalogueDocument) -> Catalogue:
    units, unit_labels = index_entries("units", [u.to_unit() for u in document.units], "id")
    check_tree(units, unit_labels)
    sla_classes = {name: sla.to_sla_class(name) for name, sla in document.sla_classes.items()}
    categories, category_labels = index_entries(
        "categories", [c.to_category() for c in document.categories], "code"
    )
    catalogue = Catalogue(
        version=document.version,
        timezone=document.timezone,
        # Read-only views: a Catalogue is shared by every activity of a worker.
        units=MappingProxyType(units),
        sla_classes=MappingProxyType(sla_classes),
        categories=MappingProxyType(categories),
        policy=resolve_policy(document.policy, sla_classes),
        calendar_overrides=(
            CalendarOverrides()
            if document.calendar_overrides is None
            else document.calendar_overrides.to_overrides()
        ),
    )
    check_references(catalogue, category_labels)
    return catalogue
