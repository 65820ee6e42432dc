"""Quota and scrap readings of the default rules (issue 17, pass h30d), on sentences
written for them: a quota's size cited in other news, the English of Chinese quota
notices, and what scrap holders and recyclers do with their feed."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import ROOT
from watcher.classify.engine import Classifier
from watcher.config.load import load_config
from watcher.domain.items import Direction

PUBLISHED = date(2025, 12, 1)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of config/watcher.yaml (default rules included)."""
    return Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml", environ={}))


def _found(classifier: Classifier, title: str, body: str) -> dict[str, Direction]:
    signals = classifier.classify(title, body, published=PUBLISHED)
    return {s.type: s.direction for s in signals if not s.speculative}


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        # a price round-up citing the year's quota size further down: background
        (
            "Antimony ingot prices climb for a fifth week",
            "Antimony ingot prices rose again this week as traders restocked. "
            "Sellers pointed to the year's antimony mining quota, which was 8% lower "
            "than last year's.",
            {},
        ),
        (
            "",
            "北方某稀土企业发布半年度业绩预告,预计净利润同比下滑。"
            "供给方面,今年第一批稀土开采指标同比增长,产品价格承压。",
            {},
        ),
        # the same size named in the lead is the item's news
        (
            "Antimony mining quota cut",
            "The year's antimony mining quota is 8% lower than last year's, traders said.",
            {"quota_delay": Direction.TIGHTENING},
        ),
        # a quota still withheld is a state that holds, news wherever it is named
        (
            "Antimony ingot prices climb for a fifth week",
            "Antimony ingot prices rose again this week as traders restocked. "
            "Sellers said the year's antimony mining quota has still not been issued.",
            {"quota_delay": Direction.TIGHTENING},
        ),
        # a permit made shorter-lived is a rule that holds, not a size
        (
            "Nickel pig iron prices climb",
            "Nickel pig iron prices climbed again this week. "
            "The government shortened the validity of nickel mining work plans from three "
            "years to one, tightening supply.",
            {"quota_delay": Direction.TIGHTENING},
        ),
        # another rule's hit in the quota's sentence is not the quota's to make background
        (
            "Tungsten prices soar",
            "Tungsten prices soared this week. Mines in Jiangxi were halted, and the "
            "tungsten mining quota is 5% lower than last year's.",
            {"ore_supply_disruption": Direction.TIGHTENING},
        ),
    ],
)
def test_a_quota_size_cited_in_other_news_is_background(
    classifier: Classifier, title: str, body: str, expected: dict[str, Direction]
) -> None:
    """A quota's size against the prior period, named only after a lead about something
    else, cites an earlier issue; a size in the lead, or a quota still late, is news."""
    assert _found(classifier, title, body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "The antimony output limitation sent to the provinces is increased by 1,500 "
            "tons compared with last year.",
            {"quota_delay": Direction.EASING},
        ),
        (
            "The ministry said the targets for the separation and smelting of rare earths "
            "were cut for the second half.",
            {"quota_delay": Direction.TIGHTENING},
        ),
        (
            "The ministry lowered the total control indicators for rare earth mining.",
            {"quota_delay": Direction.TIGHTENING},
        ),
        # the notice's drafting aside ("下同") is no cut
        (
            "The first batch of antimony mining control indicators (antimony metal content, "
            "the same below) is 40,000 tons.",
            {},
        ),
    ],
)
def test_the_english_of_chinese_quota_notices_names_a_quota(
    classifier: Classifier, body: str, expected: dict[str, Direction]
) -> None:
    """Translations of 总量控制指标 and 开采总量控制 ("control indicators", "output
    limitation", "targets for separation and smelting") name a production quota, and a
    notice's "the same below" says nothing about its size."""
    assert _found(classifier, "", body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # holders dumping scrap: scrap made ample
        (
            "本周废钨市场持货商集中抛售,回收料价格走低。",
            {"scrap_shortage": Direction.EASING},
        ),
        # recyclers outbidding each other for feed: recyclers short of it
        (
            "Magnet recyclers in Baotou are bidding higher just to secure feedstock, traders said.",
            {"scrap_shortage": Direction.TIGHTENING},
        ),
        # an export ban on a Chinese-named scrap is a scrap curb, not an export control
        (
            "商务部宣布自下月起禁止出口废磁材,以保障国内稀土回收企业原料。",
            {"scrap_shortage": Direction.TIGHTENING},
        ),
        # the near misses: a sell-off of something else, bidding for a mine
        (
            "钨精矿市场本周出现抛售,价格回落。",
            {},
        ),
        (
            "Two groups are bidding higher to secure the copper mine, bankers said.",
            {},
        ),
    ],
)
def test_what_holders_and_recyclers_do_with_scrap(
    classifier: Classifier, body: str, expected: dict[str, Direction]
) -> None:
    """Scrap named in Chinese by what it was (废钨, 废磁材), holders dumping it (抛售) and
    recyclers outbidding each other for feed read as scrap_shortage, in their direction."""
    assert _found(classifier, "", body) == expected
