"""The keyword classifier on the bundled catalogue."""

from __future__ import annotations

import pytest

from grievance_flow.catalogue import Catalogue, Classifier

THRESHOLD = 0.6  # the bundled policy's auto_dispatch_confidence


@pytest.mark.parametrize(
    ("text", "grid", "category", "unit"),
    [
        ("小区门口天天有流动摊贩摆摊，占道很严重", "grid-1", "city.street-vending", "grid-1"),
        ("工地夜间施工，打桩机吵得睡不着", "grid-3", "city.night-construction", "dept-cw"),
        ("楼下饭店后厨很脏，我们吃坏肚子了", "grid-5", "market.food-safety", "dept-sj"),
        ("商场的消防通道被货物堵死，安全出口也锁了", "grid-2", "fire.blocked-exit", "dept-xf"),
        ("楼里有人飞线充电，还把电动车上楼", "grid-8", "fire.hazard", "grid-8"),
        ("我们小区从早上就停水，水管破裂了", "grid-4", "water.supply", "dept-hs"),
        ("隔壁邻居楼顶加盖，违法建设", "grid-6", "build.illegal-construction", "comm-3"),
        ("小区健身器材坏了，篮球场也没人管", "grid-7", "culture.sports-facilities", "street-2"),
        ("ＫＴＶ接待未成年人，网吧也是", "grid-1", "culture.entertainment", "dept-wt"),
    ],
)
def test_clear_texts_rank_the_right_category_first(
    classifier: Classifier, text: str, grid: str, category: str, unit: str
) -> None:
    best = classifier.suggest(text, grid)[0]
    assert (best.category, best.unit) == (category, unit)
    assert best.score >= THRESHOLD
    assert len(best.matched) >= 2


@pytest.mark.parametrize(
    "text",
    [
        "你好，我想反映一个问题，麻烦尽快处理",  # no keyword at all
        "楼上噪音",  # one keyword only
        "门口有人摆摊，还有车乱停车",  # one keyword each for two categories
    ],
)
def test_vague_texts_stay_below_the_threshold(classifier: Classifier, text: str) -> None:
    assert all(c.score < THRESHOLD for c in classifier.suggest(text, "grid-1"))


def test_keyword_less_text_gets_no_candidates(classifier: Classifier) -> None:
    assert classifier.suggest("请尽快处理", "grid-1") == []


def test_hint_alone_gives_a_middling_score(classifier: Classifier) -> None:
    (only,) = classifier.suggest("请尽快处理", "grid-1", category_hint="city.garbage")
    assert (only.category, only.score, only.unit, only.matched) == (
        "city.garbage",
        0.5,
        "comm-1",
        [],
    )


def test_hint_plus_one_keyword_is_confident(classifier: Classifier) -> None:
    text = "楼上噪音每天到半夜"
    assert classifier.suggest(text, "grid-1")[0].score < THRESHOLD
    hinted = classifier.suggest(text, "grid-1", category_hint="police.noise")[0]
    assert (hinted.category, hinted.score >= THRESHOLD) == ("police.noise", True)


def test_hint_against_the_text_lowers_confidence(classifier: Classifier) -> None:
    text = "小区有人摆摊占道"
    plain = classifier.suggest(text, "grid-1")[0]
    hinted = classifier.suggest(text, "grid-1", category_hint="police.parking")
    assert hinted[0].category == "city.street-vending"
    assert hinted[0].score < plain.score
    assert {c.category for c in hinted} == {"city.street-vending", "police.parking"}


def test_unknown_hint_is_ignored(classifier: Classifier) -> None:
    assert classifier.suggest("请尽快处理", "grid-1", category_hint="no.such") == []


def test_a_hit_inside_a_longer_hit_does_not_count(classifier: Classifier) -> None:
    # 施工扰民 (night construction) contains 扰民 (noise); only the longer counts.
    candidates = classifier.suggest("施工扰民", "grid-1")
    assert [(c.category, c.matched) for c in candidates] == [
        ("city.night-construction", ["施工扰民"])
    ]


def test_ordering_top_and_unroutable_grid(classifier: Classifier) -> None:
    text = "摆摊的、乱停车的、广场舞的都有"
    candidates = classifier.suggest(text, "nowhere", top=2)
    assert len(candidates) == 2
    # equal scores are ordered by code
    assert [c.category for c in candidates] == sorted(c.category for c in candidates)
    assert all(c.unit is None for c in candidates)
    assert candidates == classifier.suggest(text, "nowhere", top=2)  # deterministic
    with pytest.raises(ValueError, match="top must be at least 1"):
        classifier.suggest(text, "grid-1", top=0)


def test_scores_are_within_bounds(catalogue: Catalogue, classifier: Classifier) -> None:
    everything = "".join(kw for c in catalogue.categories.values() for kw in c.keywords)
    candidates = classifier.suggest(everything, "grid-1", top=100)
    assert len(candidates) == len(catalogue.categories)
    assert all(0 < c.score <= 1 for c in candidates)
