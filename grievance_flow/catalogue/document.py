"""The catalogue file's shape (SPEC §3) as pydantic models, and its JSON Schema.

These models check each entry on its own: types, required and unknown fields
(``extra="forbid"``, with the expected fields named), ids, ranges, durations
and dates. What needs other entries (the unit tree, duplicate ids, references
to SLA classes and owners) is checked afterwards by
:mod:`grievance_flow.catalogue.checks`. The loader turns the result into the
immutable values of :mod:`grievance_flow.catalogue.model`.

Validation is strict (``"2"`` is not a number, ``"yes"`` not a boolean), as
YAML authors' typos should fail rather than be coerced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from grievance_flow.catalogue.model import (
    TERRITORIAL,
    AttributeType,
    AttributeValue,
    CalendarOverrides,
    Category,
    CategoryAttribute,
    Duration,
    DurationUnit,
    RankingWeights,
    SlaClass,
    Tier,
    Unit,
    UnitKind,
)
from grievance_flow.catalogue.problems import IDENTIFIER_PATTERN, TEXT_PATTERN

SUPPORTED_VERSIONS = (1,)

DURATION_SHAPE = "{seconds|minutes|hours|working_days: positive integer}"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION_UNITS = frozenset(unit.value for unit in DurationUnit)


def parse_duration(value: object) -> Duration:
    """Parse ``{unit: n}`` with exactly one unit of the four and a positive integer."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((unit, amount),) = value.items()
        if unit in _DURATION_UNITS and type(amount) is int and amount > 0:
            return Duration(DurationUnit(unit), amount)
    shown = dict(value) if isinstance(value, Mapping) else value
    raise ValueError(f"a duration must be exactly one of {DURATION_SHAPE}, got {shown!r}")


def parse_date(value: object) -> date:
    """Parse a date written ``YYYY-MM-DD`` (YAML may already have made it a date)."""
    # datetime is a date subclass; a timestamp here is a mistake, not a day.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"must be a date written YYYY-MM-DD, got {value!r}")


Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]
# Enums come from YAML as their values, which strict mode would refuse.
TierField = Annotated[Tier, Strict(False)]
DurationField = Annotated[
    Duration,
    PlainValidator(parse_duration),
    WithJsonSchema(
        {
            "type": "object",
            "description": f"Exactly one of {DURATION_SHAPE}.",
            "properties": {u.value: {"type": "integer", "minimum": 1} for u in DurationUnit},
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
        }
    ),
]
NonNegativeWeight = Annotated[float, Field(ge=0)]
IsoDate = Annotated[
    date, PlainValidator(parse_date), WithJsonSchema({"type": "string", "format": "date"})
]


class Entry(BaseModel):
    """A mapping of the file: strict types, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        # extra="forbid" alone says "Extra inputs are not permitted"; a misspelt
        # field (auto_dispach) is fixed faster when the right spellings are listed.
        for key in data if isinstance(data, dict) else ():
            if key not in cls.model_fields:
                expected = ", ".join(sorted(cls.model_fields))
                raise ValueError(f"unknown field {key!r} (expected: {expected})")
        return data


class UnitEntry(Entry):
    """A handling unit (部门, 街道, 社区, 网格)."""

    id: Identifier
    name: Text
    tier: TierField
    parent: Identifier | None = Field(
        None, description="The parent unit's id; only the root has none"
    )
    kind: Annotated[UnitKind, Strict(False)] = UnitKind.TERRITORIAL

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == TERRITORIAL:
            raise ValueError(f"{TERRITORIAL!r} is reserved (a category owner value)")
        return value

    def to_unit(self) -> Unit:
        """The unit this entry defines."""
        return Unit(**dict(self))


class SlaClassEntry(Entry):
    """How long each clocked stage may take (all five clocks are required)."""

    classify: DurationField
    accept: DurationField
    handle: DurationField
    recheck: DurationField
    report_in: DurationField

    def to_sla_class(self, name: str) -> SlaClass:
        """The SLA class this entry defines under ``name``."""
        return SlaClass(name=name, **dict(self))


GRID_ATTRIBUTE = "grid"
"""Every category's own Open311 attribute (the D-tier unit); no category declares it."""


class AttributeValueEntry(Entry):
    """A choice of a list attribute."""

    key: Identifier
    name: Text


class CategoryAttributeEntry(Entry):
    """A question asked when filing in the category (an Open311 service attribute)."""

    code: Identifier
    description: Text
    datatype: Annotated[AttributeType, Strict(False)]
    required: bool = False
    datatype_description: Text | None = None
    values: list[AttributeValueEntry] = Field(
        [], description="The choices; required for (and only for) the list datatypes"
    )

    @model_validator(mode="after")
    def _values_fit_the_type(self) -> CategoryAttributeEntry:
        if self.code == GRID_ATTRIBUTE:
            raise ValueError(f"{GRID_ATTRIBUTE!r} is every category's own attribute")
        if self.datatype.is_list and not self.values:
            raise ValueError(f"a {self.datatype.value} attribute needs values")
        if not self.datatype.is_list and self.values:
            raise ValueError(f"a {self.datatype.value} attribute takes no values")
        keys = [value.key for value in self.values]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate value keys in {keys}")
        return self

    def to_attribute(self) -> CategoryAttribute:
        """The attribute this entry defines."""
        return CategoryAttribute(
            code=self.code,
            description=self.description,
            datatype=self.datatype,
            required=self.required,
            datatype_description=self.datatype_description,
            values=tuple(AttributeValue(key=v.key, name=v.name) for v in self.values),
        )


class CategoryEntry(Entry):
    """A dispatch category; its code doubles as the Open311 service_code."""

    code: Identifier
    name: Text
    group: Text
    tier: TierField = Field(description="The lowest tier that handles it")
    owner: Identifier = Field(
        TERRITORIAL, description="'territorial' (the grid's ancestor at the tier) or a unit id"
    )
    sla: Identifier = Field(description="An SLA class name")
    keywords: list[Text] = []
    auto_dispatch: bool = False
    attributes: list[CategoryAttributeEntry] = Field(
        [], description="Open311 attributes asked beside the grid"
    )

    @field_validator("attributes")
    @classmethod
    def _unique_codes(cls, value: list[CategoryAttributeEntry]) -> list[CategoryAttributeEntry]:
        codes = [attribute.code for attribute in value]
        if len(set(codes)) != len(codes):
            raise ValueError(f"duplicate attribute codes in {codes}")
        return value

    def to_category(self) -> Category:
        """The category this entry defines."""
        return Category(
            **{
                **dict(self),
                "keywords": tuple(k.strip() for k in self.keywords),
                "attributes": tuple(a.to_attribute() for a in self.attributes),
            }
        )


class RankingWeightsEntry(Entry):
    """Weights of the unit ranking's score (响应 / 解决 / 满意); only proportions matter."""

    response: NonNegativeWeight = 30
    resolution: NonNegativeWeight = 35
    satisfaction: NonNegativeWeight = 35

    @model_validator(mode="after")
    def _some_weight(self) -> RankingWeightsEntry:
        if self.response + self.resolution + self.satisfaction <= 0:
            raise ValueError("at least one ranking weight must be above 0")
        return self

    def to_weights(self) -> RankingWeights:
        """The weights this entry defines."""
        return RankingWeights(
            response=self.response, resolution=self.resolution, satisfaction=self.satisfaction
        )


class PolicyEntry(Entry):
    """Catalogue-wide rules for clocks, returns and reopens."""

    warn_at: float = Field(gt=0, lt=1, description="Fraction of a clock that turns it yellow")
    escalate_after: DurationField
    max_returns: int = Field(ge=0)
    max_reopens: int = Field(ge=0)
    auto_dispatch_confidence: float = Field(ge=0, le=1)
    default_sla: Identifier | None = Field(
        None, description="Class before a case has a category; default complaint, else the first"
    )
    urgent_sla: Identifier | None = Field(
        None, description="Class of urgent cases; default urgent if defined; null: no override"
    )
    ranking_weights: RankingWeightsEntry | None = Field(
        None, description="Weights of GET /v1/kpis/ranking; default 30 / 35 / 35"
    )


class CalendarOverridesEntry(Entry):
    """Local corrections to the official working-day calendar."""

    holidays: list[IsoDate] = []
    workdays: list[IsoDate] = []

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarOverridesEntry:
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(
                f"{both[0].isoformat()} is listed both as a holiday and as a working day"
            )
        return self

    def to_overrides(self) -> CalendarOverrides:
        """The overrides this entry defines."""
        return CalendarOverrides(
            holidays=frozenset(self.holidays), workdays=frozenset(self.workdays)
        )


class CatalogueDocument(Entry):
    """grievance-flow dispatch catalogue (派单目录), SPEC §3."""

    model_config = ConfigDict(title="grievance-flow catalogue")

    version: Literal[1]
    timezone: Text = Field(description="IANA time zone; working days are counted in it")
    units: list[UnitEntry] = Field(min_length=1, description="A tree with one root")
    sla_classes: dict[Identifier, SlaClassEntry] = Field(
        min_length=1, json_schema_extra={"additionalProperties": False}
    )
    categories: list[CategoryEntry] = Field(min_length=1)
    policy: PolicyEntry
    calendar_overrides: CalendarOverridesEntry | None = None  # YAML: an emptied section
    calendar: dict[str, Any] | None = Field(
        None, description="Read-only report that GET /v1/catalogue adds; ignored when loading"
    )

    @field_validator("version", mode="before")
    @classmethod
    def _supported(cls, value: object) -> object:
        if type(value) is not int or value not in SUPPORTED_VERSIONS:
            supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
            raise ValueError(f"unsupported version {value!r} (supported: {supported})")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a catalogue file, for operators' editors."""
    schema = CatalogueDocument.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def json_schema_text() -> str:
    """:func:`json_schema` as the committed ``catalogue.schema.json`` holds it."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
