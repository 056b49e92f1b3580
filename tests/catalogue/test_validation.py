"""The loader rejects bad catalogues with a message naming the bad entry.

Each case mutates a copy of the bundled catalogue's data and returns the
message fragment the error must contain.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grievance_flow.catalogue import (
    CalendarOverrides,
    CatalogueError,
    InvalidCatalogueError,
    load_catalogue,
    parse_catalogue,
)

Data = dict[str, Any]
DURATION_SHAPE = (
    "a duration must be exactly one of {seconds|minutes|hours|working_days: positive integer}"
)


def index_of(entries: list[dict[str, Any]], key: str, value: str) -> int:
    return next(i for i, entry in enumerate(entries) if entry[key] == value)


def _unit(data: Data, unit_id: str) -> tuple[int, dict[str, Any]]:
    index = index_of(data["units"], "id", unit_id)
    return index, data["units"][index]


def _category(data: Data, code: str) -> tuple[int, dict[str, Any]]:
    index = index_of(data["categories"], "code", code)
    return index, data["categories"][index]


def unknown_parent(data: Data) -> str:
    index, unit = _unit(data, "grid-8")
    unit["parent"] = "comm-99"
    return f"units[{index}] (id 'grid-8'): unknown parent 'comm-99'"


def cycle(data: Data) -> str:
    index, unit = _unit(data, "comm-1")
    unit["parent"] = "grid-1"
    return f"units[{index}] (id 'comm-1'): cycle in parents: comm-1 -> grid-1 -> comm-1"


def self_parent(data: Data) -> str:
    index, unit = _unit(data, "street-2")
    unit["parent"] = "street-2"
    return f"units[{index}] (id 'street-2'): cycle in parents: street-2 -> street-2"


def duplicate_id(data: Data) -> str:
    first, unit = _unit(data, "grid-1")
    data["units"].append(dict(unit))
    last = len(data["units"]) - 1
    return f"units[{last}] (id 'grid-1'): duplicate id 'grid-1' (already used by units[{first}]"


def second_root(data: Data) -> str:
    index, unit = _unit(data, "street-2")
    del unit["parent"]
    return f"units[{index}] (id 'street-2'): second root unit (no parent) besides 'district'"


def tier_not_below_parent(data: Data) -> str:
    index, unit = _unit(data, "grid-2")
    unit["tier"] = "C"
    return f"units[{index}] (id 'grid-2'): tier C cannot sit under 'comm-1' (tier C)"


def unknown_kind(data: Data) -> str:
    index, unit = _unit(data, "dept-cg")
    unit["kind"] = "bureau"
    return (
        f"units[{index}] (id 'dept-cg').kind: must be 'territorial' or 'department', got 'bureau'"
    )


def misspelt_field(data: Data) -> str:
    index, unit = _unit(data, "grid-3")
    unit["parnet"] = unit.pop("parent")
    return f"units[{index}] (id 'grid-3'): unknown field 'parnet'"


def unknown_sla(data: Data) -> str:
    index, category = _category(data, "city.garbage")
    category["sla"] = "fast"
    return f"categories[{index}] (code 'city.garbage'): unknown sla class 'fast'"


def unknown_owner(data: Data) -> str:
    index, category = _category(data, "market.price")
    category["owner"] = "dept-zz"
    return f"categories[{index}] (code 'market.price'): unknown owner 'dept-zz'"


def owner_at_other_tier(data: Data) -> str:
    index, category = _category(data, "market.price")
    category["tier"] = "C"
    return f"categories[{index}] (code 'market.price'): owner 'dept-sj' is a tier A unit"


def duplicate_code(data: Data) -> str:
    first, category = _category(data, "fire.gas")
    data["categories"].append(dict(category))
    last = len(data["categories"]) - 1
    return (
        f"categories[{last}] (code 'fire.gas'): "
        f"duplicate code 'fire.gas' (already used by categories[{first}]"
    )


def unroutable_territorial(data: Data) -> str:
    # A grid hung straight under a street has no community to route C-tier cases to.
    data["units"].append({"id": "grid-9", "name": "飞地网格", "tier": "D", "parent": "street-1"})
    index, _ = _category(data, "city.garbage")
    return (
        f"categories[{index}] (code 'city.garbage'): territorial at tier C, "
        "but grid 'grid-9' has no territorial tier C ancestor"
    )


def blank_keyword(data: Data) -> str:
    index, category = _category(data, "police.noise")
    category["keywords"] = ["广场舞", " "]
    return f"categories[{index}] (code 'police.noise').keywords[1]: must be a non-empty string"


def keywords_not_a_list(data: Data) -> str:
    index, category = _category(data, "police.noise")
    category["keywords"] = "广场舞"
    return f"categories[{index}] (code 'police.noise').keywords: must be a list, got a string"


def warn_at_out_of_range(data: Data) -> str:
    data["policy"]["warn_at"] = 1.5
    return "policy.warn_at: must be < 1.0, got 1.5"


def negative_returns(data: Data) -> str:
    data["policy"]["max_returns"] = -1
    return "policy.max_returns: must be >= 0, got -1"


def unknown_urgent_sla(data: Data) -> str:
    data["policy"]["urgent_sla"] = "emergency"
    return "policy.urgent_sla: unknown sla class 'emergency'"


def negative_ranking_weight(data: Data) -> str:
    data["policy"]["ranking_weights"] = {"response": -1}
    return "policy.ranking_weights.response: must be >= 0.0, got -1"


def all_ranking_weights_zero(data: Data) -> str:
    data["policy"]["ranking_weights"] = {"response": 0, "resolution": 0, "satisfaction": 0}
    return "policy.ranking_weights: at least one ranking weight must be above 0"


def missing_policy(data: Data) -> str:
    del data["policy"]
    return "missing required field 'policy'"


def unsupported_version(data: Data) -> str:
    data["version"] = 2
    return "version: unsupported version 2 (supported: 1)"


def unknown_timezone(data: Data) -> str:
    data["timezone"] = "Asia/Atlantis"
    return "timezone: unknown time zone 'Asia/Atlantis'"


def missing_stage(data: Data) -> str:
    del data["sla_classes"]["help"]["recheck"]
    return "sla_classes.help: missing required field 'recheck'"


def date_in_both_lists(data: Data) -> str:
    data["calendar_overrides"] = {"holidays": ["2026-05-06"], "workdays": ["2026-05-06"]}
    return "calendar_overrides: 2026-05-06 is listed both as a holiday and as a working day"


def malformed_date(data: Data) -> str:
    data["calendar_overrides"] = {"holidays": ["2026-5-6"]}
    return "calendar_overrides.holidays[0]: must be a date written YYYY-MM-DD, got '2026-5-6'"


CASES: list[Callable[[Data], str]] = [
    unknown_parent,
    cycle,
    self_parent,
    duplicate_id,
    second_root,
    tier_not_below_parent,
    unknown_kind,
    misspelt_field,
    unknown_sla,
    unknown_owner,
    owner_at_other_tier,
    duplicate_code,
    unroutable_territorial,
    blank_keyword,
    keywords_not_a_list,
    warn_at_out_of_range,
    negative_returns,
    unknown_urgent_sla,
    negative_ranking_weight,
    all_ranking_weights_zero,
    missing_policy,
    unsupported_version,
    unknown_timezone,
    missing_stage,
    date_in_both_lists,
    malformed_date,
]


@pytest.mark.parametrize("mutate", CASES, ids=lambda case: case.__name__)
def test_rejects_with_a_message_naming_the_entry(
    default_data: Data, mutate: Callable[[Data], str]
) -> None:
    expected = mutate(default_data)
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="default.yaml")
    message = str(caught.value)
    assert message.startswith("catalogue default.yaml: ")
    assert expected in message


@pytest.mark.parametrize(
    "duration",
    [
        {"days": 3},
        {"hours": 0},
        {"hours": 1, "minutes": 5},
        {"hours": "2"},
        {"hours": True},
        {"hours": 1.5},
        {"working_days": -1},
        {},
        3,
        None,
    ],
    ids=repr,
)
def test_rejects_every_other_duration_shape(default_data: Data, duration: object) -> None:
    default_data["sla_classes"]["complaint"]["handle"] = duration
    shown = repr(duration)
    expected = (
        f"catalogue default.yaml: sla_classes.complaint.handle: {DURATION_SHAPE}, got {shown}"
    )
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="default.yaml")
    assert str(caught.value) == expected


def test_the_spec_duration_example_reads_exactly(default_data: Data) -> None:
    default_data["sla_classes"]["complaint"]["handle"] = {"days": 3}
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="default.yaml")
    assert str(caught.value) == (
        "catalogue default.yaml: sla_classes.complaint.handle: a duration must be exactly one of "
        "{seconds|minutes|hours|working_days: positive integer}, got {'days': 3}"
    )


@pytest.mark.parametrize("document", [None, [], "units: []", 42])
def test_rejects_a_document_that_is_not_a_mapping(document: object) -> None:
    with pytest.raises(InvalidCatalogueError, match="the catalogue must be a mapping"):
        parse_catalogue(document, source="x.yaml")


def test_errors_are_value_errors(default_data: Data) -> None:
    unknown_parent(default_data)
    with pytest.raises(ValueError):  # callers that only know "bad input" still catch it
        parse_catalogue(default_data, source="default.yaml")
    assert issubclass(InvalidCatalogueError, CatalogueError)


def test_optional_policy_fields_default_sensibly(default_data: Data) -> None:
    del default_data["policy"]["default_sla"]
    del default_data["policy"]["urgent_sla"]
    policy = parse_catalogue(default_data, source="x").policy
    assert (policy.default_sla, policy.urgent_sla) == ("complaint", "urgent")
    default_data["policy"]["urgent_sla"] = None  # explicit null: no urgent override
    assert parse_catalogue(default_data, source="x").sla_for("land.planning", True).name == (
        "consult"
    )


def test_ranking_weights_default_to_30_35_35_and_may_be_set(default_data: Data) -> None:
    weights = parse_catalogue(default_data, source="x").policy.ranking_weights
    assert (weights.response, weights.resolution, weights.satisfaction) == (30, 35, 35)
    default_data["policy"]["ranking_weights"] = {"response": 40, "resolution": 30}
    weights = parse_catalogue(default_data, source="x").policy.ranking_weights
    assert (weights.response, weights.resolution, weights.satisfaction) == (40, 30, 35)


def test_an_emptied_overrides_section_overrides_nothing(default_data: Data) -> None:
    default_data["calendar_overrides"] = None  # `calendar_overrides:` with its dates cut
    assert parse_catalogue(default_data, source="x").calendar_overrides == CalendarOverrides()


def test_loads_a_file_and_names_it(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "version: 1\n"
        "timezone: Asia/Shanghai\n"
        "units:\n"
        "  - {id: district, name: 指挥中心, tier: A}\n"
        "  - {id: grid-1, name: 一网格, tier: D, parent: district}\n"
        "sla_classes:\n"
        "  only: {classify: {minutes: 5}, accept: {hours: 1}, handle: {working_days: 3},"
        " recheck: {hours: 2}, report_in: {seconds: 600}}\n"
        "categories:\n"
        "  - {code: misc, name: 其他, group: 其他, tier: D, sla: only}\n"
        "policy: {warn_at: 0.5, escalate_after: {hours: 1}, max_returns: 0, max_reopens: 0,"
        " auto_dispatch_confidence: 1}\n"
        "calendar_overrides: {holidays: [2026-05-06]}\n",
        encoding="utf-8",
    )
    catalogue = load_catalogue(good)
    assert catalogue.route("misc", "grid-1").id == "grid-1"
    assert catalogue.policy.default_sla == "only"
    assert catalogue.policy.urgent_sla is None
    assert [d.isoformat() for d in catalogue.calendar_overrides.holidays] == ["2026-05-06"]
    assert catalogue.category("misc").keywords == ()

    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text(encoding="utf-8").replace("version: 1", "version: 3"))
    with pytest.raises(
        InvalidCatalogueError, match=re.escape(f"catalogue {bad}: version: unsupported")
    ):
        load_catalogue(bad)


def test_rejects_duplicate_yaml_keys(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("version: 1\nversion: 1\n", encoding="utf-8")
    with pytest.raises(InvalidCatalogueError, match=r"not valid YAML: .*duplicate key 'version'"):
        load_catalogue(path)


def test_reports_every_bad_entry_on_its_own_line(default_data: Data) -> None:
    kind_index, unit = _unit(default_data, "dept-cg")
    unit["kind"] = "bureau"
    code_index, category = _category(default_data, "fire.gas")
    category["auto_dispatch"] = "yes"
    del category["sla"]
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="x.yaml")
    assert str(caught.value).splitlines() == [
        f"catalogue x.yaml: units[{kind_index}] (id 'dept-cg').kind: "
        "must be 'territorial' or 'department', got 'bureau'",
        f"catalogue x.yaml: categories[{code_index}] (code 'fire.gas'): "
        "missing required field 'sla'",
        f"catalogue x.yaml: categories[{code_index}] (code 'fire.gas').auto_dispatch: "
        "must be true or false, got 'yes'",
    ]


def test_an_unknown_field_lists_the_known_ones(default_data: Data) -> None:
    index, category = _category(default_data, "fire.gas")
    category["auto_dispach"] = True
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="x.yaml")
    assert str(caught.value) == (
        f"catalogue x.yaml: categories[{index}] (code 'fire.gas'): unknown field 'auto_dispach' "
        "(expected: attributes, auto_dispatch, code, group, keywords, name, owner, sla, tier)"
    )


@pytest.mark.parametrize(
    ("section", "key", "value", "problem"),
    [
        ("policy", "max_reopens", "2", "must be an integer, got '2'"),
        ("policy", "max_reopens", True, "must be an integer, got True"),
        ("policy", "warn_at", "0.8", "must be a number, got '0.8'"),
        ("policy", "auto_dispatch_confidence", 1.2, "must be <= 1.0, got 1.2"),
        ("policy", "default_sla", "no such", "'no such' is not a valid id"),
    ],
)
def test_values_are_not_coerced(
    default_data: Data, section: str, key: str, value: object, problem: str
) -> None:
    default_data[section][key] = value
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="x.yaml")
    assert str(caught.value).startswith(f"catalogue x.yaml: {section}.{key}: {problem}")


def test_entries_without_an_id_are_named_by_index(default_data: Data) -> None:
    default_data["units"].append({"name": "无名", "tier": "D", "parent": "comm-1"})
    default_data["units"].append("grid-10")
    last = len(default_data["units"]) - 1
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="x.yaml")
    assert str(caught.value).splitlines() == [
        f"catalogue x.yaml: units[{last - 1}]: missing required field 'id'",
        f"catalogue x.yaml: units[{last}]: must be a mapping, got a string",
    ]


def test_reserved_unit_id(default_data: Data) -> None:
    default_data["units"].append(
        {"id": "territorial", "name": "?", "tier": "D", "parent": "comm-1"}
    )
    last = len(default_data["units"]) - 1
    with pytest.raises(
        InvalidCatalogueError,
        match=re.escape(f"units[{last}] (id 'territorial').id: 'territorial' is reserved"),
    ):
        parse_catalogue(default_data, source="x.yaml")


def test_duplicate_keyword_is_named_by_its_index(default_data: Data) -> None:
    index, category = _category(default_data, "police.noise")
    category["keywords"] = ["广场舞", "噪音", " 广场舞 "]
    with pytest.raises(
        InvalidCatalogueError,
        match=re.escape(
            f"categories[{index}] (code 'police.noise').keywords[2]: duplicate keyword '广场舞'"
        ),
    ):
        parse_catalogue(default_data, source="x.yaml")


def test_sla_class_names_are_ids(default_data: Data) -> None:
    default_data["sla_classes"]["fast lane"] = default_data["sla_classes"]["urgent"]
    with pytest.raises(InvalidCatalogueError) as caught:
        parse_catalogue(default_data, source="x.yaml")
    assert str(caught.value) == (
        "catalogue x.yaml: sla_classes.fast lane: 'fast lane' is not a valid id "
        "(letters, digits, '.', '_', '-'; no spaces)"
    )
