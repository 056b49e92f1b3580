"""The bundled catalogue loads and models one district as SPEC §3 requires."""

from __future__ import annotations

from collections import Counter

from grievance_flow.catalogue import (
    Catalogue,
    Duration,
    DurationUnit,
    Tier,
    UnitKind,
    parse_catalogue,
    to_data,
)

GROUPS = {"城管", "查违", "公安", "卫监", "市监", "消防安全", "文体旅游", "环保水务", "规土"}


def test_units_form_one_district(catalogue: Catalogue) -> None:
    root = catalogue.unit("district")
    assert (root.name, root.tier, root.parent) == ("示范区指挥中心", Tier.A, None)
    departments = [u for u in catalogue.units.values() if u.kind == UnitKind.DEPARTMENT]
    assert len(departments) >= 6
    assert all(d.parent == "district" and d.tier == Tier.A for d in departments)
    territorial = Counter(
        u.tier for u in catalogue.units.values() if u.kind == UnitKind.TERRITORIAL
    )
    assert territorial == {Tier.A: 1, Tier.B: 2, Tier.C: 4, Tier.D: 8}


def test_spec_example_units_keep_their_ids_and_names(catalogue: Catalogue) -> None:
    expected = {
        "district": "示范区指挥中心",
        "dept-cg": "区城市管理局",
        "street-1": "东湖街道",
        "comm-1": "湖滨社区",
        "grid-1": "湖滨一网格",
    }
    assert {uid: catalogue.unit(uid).name for uid in expected} == expected


def test_every_community_has_two_grids(catalogue: Catalogue) -> None:
    for community in catalogue.units_at(Tier.C):
        grids = [u for u in catalogue.units_at(Tier.D) if u.parent == community.id]
        assert len(grids) == 2, community.id


def test_sla_classes_have_the_stated_handle_times(catalogue: Catalogue) -> None:
    handle = {name: sla.handle for name, sla in catalogue.sla_classes.items()}
    assert handle == {
        "consult": Duration(DurationUnit.WORKING_DAYS, 2),
        "help": Duration(DurationUnit.WORKING_DAYS, 10),
        "complaint": Duration(DurationUnit.WORKING_DAYS, 15),
        "urgent": Duration(DurationUnit.HOURS, 24),
    }
    urgent = catalogue.sla_classes["urgent"]
    stages = ("classify", "accept", "handle", "recheck", "report_in")
    assert not any(urgent.for_stage(stage).is_working_days for stage in stages)


def test_policy_matches_the_spec(catalogue: Catalogue) -> None:
    policy = catalogue.policy
    assert policy.warn_at == 0.8
    assert policy.escalate_after == Duration(DurationUnit.WORKING_DAYS, 1)
    assert (policy.max_returns, policy.max_reopens) == (2, 2)
    assert policy.auto_dispatch_confidence == 0.6
    assert (policy.default_sla, policy.urgent_sla) == ("complaint", "urgent")


def test_categories_cover_all_nine_groups(catalogue: Catalogue) -> None:
    groups = Counter(c.group for c in catalogue.categories.values())
    assert set(groups) == GROUPS
    assert min(groups.values()) >= 2
    assert len(catalogue.categories) >= 25


def test_categories_mix_owners_tiers_and_auto_dispatch(catalogue: Catalogue) -> None:
    categories = list(catalogue.categories.values())
    territorial_tiers = {c.tier for c in categories if c.is_territorial}
    assert territorial_tiers == {Tier.B, Tier.C, Tier.D}
    assert any(not c.is_territorial for c in categories)
    assert any(c.auto_dispatch for c in categories)
    assert any(not c.auto_dispatch for c in categories)
    street_vending = catalogue.category("city.street-vending")
    assert (street_vending.name, street_vending.tier, street_vending.owner) == (
        "占道经营",
        Tier.D,
        "territorial",
    )
    assert street_vending.auto_dispatch


def test_keywords_are_plentiful_and_not_shared(catalogue: Catalogue) -> None:
    owners: Counter[str] = Counter()
    for category in catalogue.categories.values():
        assert 5 <= len(category.keywords) <= 40, category.code
        owners.update(category.keywords)
    assert [word for word, count in owners.items() if count > 1] == []


def test_every_category_routes_from_every_grid(catalogue: Catalogue) -> None:
    for code in catalogue.categories:
        for grid in catalogue.units_at(Tier.D):
            assert catalogue.route(code, grid.id).tier == catalogue.category(code).tier


def test_round_trips_through_file_data(catalogue: Catalogue) -> None:
    assert parse_catalogue(to_data(catalogue), source="dump") == catalogue
