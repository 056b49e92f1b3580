"""The dispatch catalogue (派单目录) as immutable values (SPEC §3).

A catalogue is a tree of handling units, a set of SLA classes, the categories
the command centre dispatches by, a policy, and optional calendar overrides.
Build one with :func:`grievance_flow.catalogue.loader.parse_catalogue`, which
validates everything and reports the bad entry by name; the constructors here
only guard the invariants of each value on its own.

Two policy fields are extensions of ours, not in the SPEC snippet:

* ``default_sla``: the SLA class for a case that has no category yet (the
  classify clock starts before anyone knows what the case is about). When the
  file omits it: ``complaint`` if that class exists, else the first class.
* ``urgent_sla``: the class for a case filed with ``urgent: true``, whatever its
  category. When omitted: ``urgent`` if that class exists, else none (urgent
  cases then keep their category's class). Write ``urgent_sla: null`` to turn
  the override off even though an ``urgent`` class exists.
* ``ranking_weights``: how ``GET /v1/kpis/ranking`` weighs 响应率, 解决率 and
  满意率 into a unit's score; default 30 / 35 / 35, as some centres publish.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from grievance_flow.catalogue.errors import (
    RoutingError,
    UnknownCategoryError,
    UnknownSlaClassError,
    UnknownUnitError,
)

TERRITORIAL = "territorial"
"""``Category.owner`` value meaning "the case's grid's ancestor at the category's tier"."""

SLA_STAGES: tuple[str, ...] = ("classify", "accept", "handle", "recheck", "report_in")
"""The clocks an SLA class defines, in lifecycle order (``report_in`` is per summoned unit)."""


class DurationUnit(StrEnum):
    """The unit of a catalogue duration: calendar time or working days."""

    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_DAYS = "working_days"


class Tier(StrEnum):
    """Administrative tier: A district > B street > C community > D grid."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def depth(self) -> int:
        """0 for A (the top) to 3 for D (the grid), so deeper tiers compare greater."""
        return "ABCD".index(self.value)


class UnitKind(StrEnum):
    """Whether a unit is part of the territorial tree or a functional department."""

    TERRITORIAL = "territorial"
    DEPARTMENT = "department"


@dataclass(frozen=True)
class Duration:
    """An allowed time, e.g. ``{hours: 2}`` or ``{working_days: 15}``.

    Attributes:
        unit: Calendar seconds/minutes/hours, or working days.
        amount: A positive whole number of units.
    """

    unit: DurationUnit
    amount: int

    def __post_init__(self) -> None:
        # Coerce plain strings ("hours") so enum properties work; raises ValueError otherwise.
        object.__setattr__(self, "unit", DurationUnit(self.unit))
        # bool is an int subclass; `True` hours is a typo, not one hour.
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise ValueError(f"a duration amount must be a positive integer, got {self.amount!r}")

    @property
    def is_working_days(self) -> bool:
        """True if this duration counts working days rather than elapsed time."""
        return self.unit == DurationUnit.WORKING_DAYS

    def as_timedelta(self) -> timedelta:
        """Return the elapsed time of a calendar duration.

        Raises:
            ValueError: For working days, whose length depends on the calendar.
        """
        if self.is_working_days:
            raise ValueError("working days have no fixed length; use deadlines.deadline_after")
        return timedelta(**{self.unit.value: self.amount})

    def to_data(self) -> dict[str, int]:
        """Return the catalogue-file form, e.g. ``{"hours": 2}``."""
        return {self.unit.value: self.amount}

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value.replace('_', ' ')}"


@dataclass(frozen=True)
class Unit:
    """A handling unit (部门, 街道, 社区, 网格).

    Attributes:
        id: Stable identifier; unit API keys carry it.
        name: Display name, e.g. ``东湖街道``.
        tier: The unit's tier.
        parent: The parent unit's id; None only for the root (the command centre).
        kind: ``territorial`` (the district tree) or ``department`` (a bureau).
    """

    id: str
    name: str
    tier: Tier
    parent: str | None = None
    kind: UnitKind = UnitKind.TERRITORIAL

    def __post_init__(self) -> None:
        # Coerce plain strings ("A", "department"); raises ValueError otherwise.
        object.__setattr__(self, "tier", Tier(self.tier))
        object.__setattr__(self, "kind", UnitKind(self.kind))


@dataclass(frozen=True)
class SlaClass:
    """How long each clocked stage may take for cases of this class."""

    name: str
    classify: Duration
    accept: Duration
    handle: Duration
    recheck: Duration
    report_in: Duration

    def for_stage(self, stage: str) -> Duration:
        """Return the allowed time for ``stage`` (a ``Stage`` value or ``"report_in"``).

        Raises:
            ValueError: If the stage has no clock (``report``, ``closed``, a typo).
        """
        if stage not in SLA_STAGES:
            raise ValueError(
                f"stage {str(stage)!r} has no SLA clock; clocked stages are {', '.join(SLA_STAGES)}"
            )
        duration: Duration = getattr(self, str(stage))
        return duration


class AttributeType(StrEnum):
    """An Open311 service attribute's ``datatype`` (GeoReport v2)."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"

    @property
    def is_list(self) -> bool:
        """True for the two list types, whose answers must be among the ``values``."""
        return self in (AttributeType.SINGLEVALUELIST, AttributeType.MULTIVALUELIST)


@dataclass(frozen=True)
class AttributeValue:
    """One choice of a list attribute: ``key`` is sent, ``name`` is shown."""

    key: str
    name: str


@dataclass(frozen=True)
class CategoryAttribute:
    """A question the reporter answers when filing in this category (Open311 attribute).

    Attributes:
        code: The attribute's code, e.g. ``pipe_size`` (``grid`` is every
            category's own and may not be declared).
        description: The question, e.g. ``管径``.
        datatype: The kind of answer.
        required: Whether a filing must answer it.
        datatype_description: A hint on the format, if any.
        values: The choices of a list attribute (none for the other types).
    """

    code: str
    description: str
    datatype: AttributeType
    required: bool = False
    datatype_description: str | None = None
    values: tuple[AttributeValue, ...] = ()


@dataclass(frozen=True)
class Category:
    """A dispatch category; ``code`` doubles as the Open311 ``service_code``.

    Attributes:
        code: Stable code, e.g. ``city.street-vending``.
        name: Display name, e.g. ``占道经营``.
        group: The business line, e.g. ``城管``.
        tier: The lowest tier that handles it.
        owner: ``territorial`` or the id of the unit that always handles it.
        sla: The SLA class name.
        keywords: Phrases the classifier looks for in the description.
        auto_dispatch: Whether a confident suggestion may be dispatched unattended.
        attributes: What a filing in it is asked beside the grid (Open311).
    """

    code: str
    name: str
    group: str
    tier: Tier
    owner: str
    sla: str
    keywords: tuple[str, ...] = ()
    auto_dispatch: bool = False
    attributes: tuple[CategoryAttribute, ...] = ()

    @property
    def is_territorial(self) -> bool:
        """True if the case goes to its grid's ancestor rather than a fixed unit."""
        return self.owner == TERRITORIAL


@dataclass(frozen=True)
class RankingWeights:
    """Weights of a unit's monthly score (考核排名): 响应, 解决, 满意.

    Only their proportions matter: the score is the weighted mean of the rates
    that are defined, so a unit with no recheck yet is scored on the other two.
    """

    response: float = 30
    resolution: float = 35
    satisfaction: float = 35

    def __post_init__(self) -> None:
        weights = (self.response, self.resolution, self.satisfaction)
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(
                f"ranking weights must not be negative and must not all be 0, got {weights}"
            )


@dataclass(frozen=True)
class Policy:
    """Catalogue-wide rules for clocks, returns and reopens (see module docstring).

    Attributes:
        warn_at: Fraction of the allowed time after which a stage turns yellow.
        escalate_after: How long after the deadline an unfinished stage escalates.
        max_returns: Returns allowed before the dispatcher must arbitrate.
        max_reopens: Re-handlings allowed before the case closes unresolved.
        auto_dispatch_confidence: Minimum classifier score for auto-dispatch.
        default_sla: SLA class for a case with no category yet.
        urgent_sla: SLA class for urgent cases, or None to keep the category's.
        ranking_weights: How the unit ranking weighs its three rates.
    """

    warn_at: float
    escalate_after: Duration
    max_returns: int
    max_reopens: int
    auto_dispatch_confidence: float
    default_sla: str
    urgent_sla: str | None = None
    ranking_weights: RankingWeights = field(default_factory=RankingWeights)

    def __post_init__(self) -> None:
        if not 0 < self.warn_at < 1:
            raise ValueError(f"warn_at must be strictly between 0 and 1, got {self.warn_at!r}")
        if not 0 <= self.auto_dispatch_confidence <= 1:
            raise ValueError(
                "auto_dispatch_confidence must be between 0 and 1, "
                f"got {self.auto_dispatch_confidence!r}"
            )
        if self.max_returns < 0 or self.max_reopens < 0:
            raise ValueError("max_returns and max_reopens must not be negative")


@dataclass(frozen=True)
class CalendarOverrides:
    """Local corrections to the official working-day calendar.

    Attributes:
        holidays: Dates that are days off even if the official calendar says work.
        workdays: Dates that are worked even if the official calendar says off.
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"a date cannot be both a holiday and a working day: {listed}")


@dataclass(frozen=True)
class Catalogue:
    """The whole dispatch catalogue, with lookups and routing.

    Lookups never raise ``KeyError``: they raise a :class:`CatalogueError`
    subclass whose message says what was unknown.
    """

    version: int
    timezone: str
    units: Mapping[str, Unit]
    sla_classes: Mapping[str, SlaClass]
    categories: Mapping[str, Category]
    policy: Policy
    calendar_overrides: CalendarOverrides = field(default_factory=CalendarOverrides)

    @property
    def timezone_info(self) -> ZoneInfo:
        """The catalogue's time zone; working days are counted in it."""
        return ZoneInfo(self.timezone)

    def unit(self, unit_id: str) -> Unit:
        """Return the unit with this id.

        Raises:
            UnknownUnitError: If there is none.
        """
        try:
            return self.units[unit_id]
        except KeyError:
            raise UnknownUnitError(f"unknown unit {unit_id!r}: not in the catalogue") from None

    def category(self, code: str) -> Category:
        """Return the category with this code.

        Raises:
            UnknownCategoryError: If there is none.
        """
        try:
            return self.categories[code]
        except KeyError:
            raise UnknownCategoryError(f"unknown category {code!r}: not in the catalogue") from None

    def sla_class(self, name: str) -> SlaClass:
        """Return the SLA class with this name.

        Raises:
            UnknownSlaClassError: If there is none.
        """
        try:
            return self.sla_classes[name]
        except KeyError:
            raise UnknownSlaClassError(
                f"unknown SLA class {name!r}: not in the catalogue"
            ) from None

    def units_at(self, tier: Tier) -> list[Unit]:
        """Return the units of one tier, in catalogue order."""
        return [u for u in self.units.values() if u.tier == tier]

    def parent(self, unit_id: str) -> Unit | None:
        """Return the unit's parent, or None for the root.

        Raises:
            UnknownUnitError: If ``unit_id`` is unknown.
        """
        parent_id = self.unit(unit_id).parent
        return None if parent_id is None else self.unit(parent_id)

    def ancestors(self, unit_id: str) -> list[Unit]:
        """Return the unit and its ancestors, the unit first and the root last.

        Raises:
            UnknownUnitError: If ``unit_id`` (or a parent) is unknown.
        """
        chain = [self.unit(unit_id)]
        # A validated catalogue has no cycles; the bound keeps a hand-built one
        # from looping forever.
        while chain[-1].parent is not None and len(chain) <= len(self.units):
            chain.append(self.unit(chain[-1].parent))
        return chain

    def ancestor_at(self, unit_id: str, tier: Tier, *, kind: UnitKind | None = None) -> Unit | None:
        """Return the nearest of the unit and its ancestors at ``tier``, or None.

        Args:
            unit_id: Where to start (included in the search).
            tier: The tier wanted.
            kind: If given, only units of this kind qualify.
        """
        for unit in self.ancestors(unit_id):
            if unit.tier == tier and (kind is None or unit.kind == kind):
                return unit
        return None

    def route(self, category_code: str, grid: str) -> Unit:
        """Return the unit a case of this category filed in ``grid`` goes to.

        A territorial category goes to the grid's territorial ancestor at the
        category's tier; any other goes to its owner. The grid is checked in
        both cases because a case must lie inside the district to be ours.

        Raises:
            UnknownCategoryError: If the category is unknown.
            RoutingError: If the grid is unknown or not a D-tier unit, or it has
                no territorial ancestor at the category's tier.
        """
        category = self.category(category_code)
        grid_unit = self.units.get(grid)
        if grid_unit is None:
            raise RoutingError(f"cannot route: grid {grid!r} is not a unit of the catalogue")
        if grid_unit.tier != Tier.D:
            raise RoutingError(
                f"cannot route: {grid!r} is a tier {grid_unit.tier} unit, not a tier D grid"
            )
        if not category.is_territorial:
            return self.unit(category.owner)
        target = self.ancestor_at(grid, category.tier, kind=UnitKind.TERRITORIAL)
        if target is None:
            raise RoutingError(
                f"cannot route {category_code!r}: grid {grid!r} has no tier "
                f"{category.tier} ancestor"
            )
        return target

    def sla_for(self, category_code: str | None, urgent: bool = False) -> SlaClass:
        """Return the SLA class governing a case.

        Args:
            category_code: The case's category, or None before it has one.
            urgent: Whether the case was filed ``urgent: true``.

        Raises:
            UnknownCategoryError: If ``category_code`` is given but unknown.
        """
        # Look the category up even when urgency overrides it, so a typo in a
        # dispatch fails the same way for urgent and ordinary cases.
        category = None if category_code is None else self.category(category_code)
        if urgent and self.policy.urgent_sla is not None:
            return self.sla_class(self.policy.urgent_sla)
        if category is None:
            return self.sla_class(self.policy.default_sla)
        return self.sla_class(category.sla)
