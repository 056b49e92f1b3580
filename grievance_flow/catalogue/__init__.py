"""The dispatch catalogue (派单目录): units, SLA classes, categories, policy (SPEC §3).

Typical use, once per process::

    catalogue = load_catalogue(path_or_none)
    classifier = Classifier(catalogue)
    unit = catalogue.route("city.street-vending", "grid-1")
"""

from grievance_flow.catalogue.classifier import Classifier
from grievance_flow.catalogue.dump import to_data
from grievance_flow.catalogue.errors import (
    CatalogueError,
    InvalidCatalogueError,
    RoutingError,
    UnknownCategoryError,
    UnknownSlaClassError,
    UnknownUnitError,
)
from grievance_flow.catalogue.loader import load_catalogue, parse_catalogue, read_catalogue_data
from grievance_flow.catalogue.model import (
    SLA_STAGES,
    TERRITORIAL,
    CalendarOverrides,
    Catalogue,
    Category,
    Duration,
    DurationUnit,
    Policy,
    SlaClass,
    Tier,
    Unit,
    UnitKind,
)

__all__ = [
    "SLA_STAGES",
    "TERRITORIAL",
    "CalendarOverrides",
    "Catalogue",
    "CatalogueError",
    "Category",
    "Classifier",
    "Duration",
    "DurationUnit",
    "InvalidCatalogueError",
    "Policy",
    "RoutingError",
    "SlaClass",
    "Tier",
    "Unit",
    "UnitKind",
    "UnknownCategoryError",
    "UnknownSlaClassError",
    "UnknownUnitError",
    "load_catalogue",
    "parse_catalogue",
    "read_catalogue_data",
    "to_data",
]
