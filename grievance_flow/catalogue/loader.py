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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from grievance_flow.catalogue.checks import check_references, check_tree
from grievance_flow.catalogue.errors import InvalidCatalogueError
from grievance_flow.catalogue.fields import (
    FieldError,
    as_text,
    check_keys,
    parse_calendar_overrides,
    type_name,
)
from grievance_flow.catalogue.model import CalendarOverrides, Catalogue
from grievance_flow.catalogue.sections import (
    parse_categories,
    parse_policy,
    parse_sla_classes,
    parse_units,
)

DEFAULT_CATALOGUE = "default.yaml"
"""File name of the bundled catalogue inside this package."""

SUPPORTED_VERSIONS = (1,)

_REQUIRED = ("version", "timezone", "units", "sla_classes", "categories", "policy")
_OPTIONAL = ("calendar_overrides",)


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
        data: The document as YAML or JSON decoded it.
        source: What to call the document in error messages (usually its path).

    Raises:
        InvalidCatalogueError: Naming ``source`` and the bad entry.
    """
    try:
        return _parse(data)
    except FieldError as exc:
        raise InvalidCatalogueError(f"catalogue {source}: {exc}") from exc


def _parse(data: object) -> Catalogue:
    if not isinstance(data, dict):
        raise FieldError("", f"the catalogue must be a mapping, got {type_name(data)}")
    check_keys(data, "", required=_REQUIRED, optional=_OPTIONAL)
    version = data["version"]
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or version not in SUPPORTED_VERSIONS
    ):
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        raise FieldError("version", f"unsupported version {version!r} (supported: {supported})")
    timezone = _parse_timezone(data["timezone"])
    units, unit_labels = parse_units(data["units"])
    check_tree(units, unit_labels)
    sla_classes = parse_sla_classes(data["sla_classes"])
    categories, category_labels = parse_categories(data["categories"])
    raw_overrides = data.get("calendar_overrides")
    catalogue = Catalogue(
        version=1,
        timezone=timezone,
        # Read-only views: a Catalogue is shared by every activity of a worker.
        units=MappingProxyType(units),
        sla_classes=MappingProxyType(sla_classes),
        categories=MappingProxyType(categories),
        policy=parse_policy(data["policy"], sla_classes),
        calendar_overrides=(
            CalendarOverrides()
            if raw_overrides is None
            else parse_calendar_overrides(raw_overrides, "calendar_overrides")
        ),
    )
    check_references(catalogue, category_labels)
    return catalogue


def _parse_timezone(value: object) -> str:
    name = as_text(value, "timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("timezone", f"unknown time zone {name!r}") from None
    return name
