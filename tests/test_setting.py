"""Setting, not news (`classify/setting.py`) and its hook in the engine, on sentences
written for them: a control or a quota named only below a lead that reports a market is
the setting of that report (issue 17)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import ROOT
from watcher.classify.engine import Classifier
from watcher.classify.setting import market_lead
from watcher.classify.text import split_sentences
from watcher.config.load import load_config
from watcher.domain.items import Direction

PUBLISHED = date(2025, 12, 1)
PRICE_LEAD = "Tungsten concentrate prices rose 3% to a record 290,000 yuan a tonne on Tuesday."
QUOTA_CUT = (
    "The first batch of this year's tungsten mining quota was cut by 6.5% from a year earlier."
)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of config/watcher.yaml (default rules included)."""
    return Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml", environ={}))


def _found(classifier: Classifier, body: str, title: str = "") -> dict[str, Direction]:
    return {s.type: s.direction for s in classifier.classify(title, body, published=PUBLISHED)}


def _lead(text: str) -> bool:
    return market_lead(text, split_sentences(text), 1)


@pytest.mark.parametrize(
    "text",
    [
        PRICE_LEAD,
        "Gallium prices jumped 5% on Tuesday.",
        "稀土類價格的上漲依舊沒有緩和的跡象。",
        "长江综合钨粉均价报630000元/吨,较前一交易日上涨2500元。",
        "北方稀土发布2023年半年度业绩预减公告,净利润同比减少67%。",
    ],
)
def test_a_lead_with_a_price_or_a_result_reported_is_a_market_lead(text: str) -> None:
    assert _lead(text)


@pytest.mark.parametrize(
    "text",
    [
        "The company aims to maximise its revenue from lithium.",  # no figure, no move
        "China cut the tungsten mining quota by 6.5%.",  # no market word
        "商务部宣布对镓实施出口管制。",
    ],
)
def test_a_lead_without_a_reported_price_or_result_is_not(text: str) -> None:
    assert not _lead(text)


def test_only_the_lead_is_read() -> None:
    text = f"{QUOTA_CUT} {PRICE_LEAD}"
    assert not market_lead(text, split_sentences(text), 1)
    assert market_lead(text, split_sentences(text), 2)


@pytest.mark.parametrize(
    "body",
    [
        f"{PRICE_LEAD} {QUOTA_CUT}",
        "钨精矿均价上涨3000元/吨,创历史新高。今年第一批钨矿开采总量控制指标同比下降6.45%。",
        "Gallium prices jumped 5% to a record on Tuesday. "
        "China requires export licences for gallium.",
    ],
)
def test_a_measure_named_only_below_a_market_lead_is_its_setting(
    classifier: Classifier, body: str
) -> None:
    """(Each measure sentence alone is a signal for these rules.)"""
    assert _found(classifier, body) == {}


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        # the measure opens the item: it is the news
        (f"{QUOTA_CUT} {PRICE_LEAD}", "quota_delay"),
        # the lead names the measure: the report is about it
        (
            "Tungsten prices hit a record high on Tuesday, as traders weighed the "
            f"ministry's cut to the tungsten mining quota. {QUOTA_CUT}",
            "quota_delay",
        ),
        # a current effect of the measure is news (SIGNALS.md)
        (
            "Gallium prices jumped 5% to a record on Tuesday. China's export controls on "
            "gallium cut shipments by half in October.",
            "export_control",
        ),
        # a measure eased is an event, not the standing measure
        (
            "Gallium prices fell 5% on Tuesday. China suspended its export ban on gallium "
            "to the United States.",
            "export_control",
        ),
        # a supply state is no measure named as a setting: the report states it now
        (
            "NdFeB scrap prices rose 4% this week. Recyclers are short of scrap as holders "
            "are reluctant to sell.",
            "scrap_shortage",
        ),
        # no market in the lead
        (
            "The company aims to maximise its revenue from lithium. China requires export "
            "licences for gallium.",
            "export_control",
        ),
    ],
)
def test_a_measure_that_is_news_is_kept(classifier: Classifier, body: str, kind: str) -> None:
    expected = Direction.EASING if "suspended" in body else Direction.TIGHTENING
    assert _found(classifier, body).get(kind) is expected


def test_a_lead_that_holds_another_rule_s_news_is_no_market_report(
    classifier: Classifier,
) -> None:
    """A lead that reports supply news beside the price ("as Myanmar closed its border
    crossings to ore shipments") is news: the measures below it are not its setting."""
    body = (
        "Gallium prices jumped 5% to a record on Tuesday as Myanmar closed its border "
        "crossings to rare earth ore shipments. China requires export licences for gallium."
    )
    found = _found(classifier, body)
    assert found.get("ore_supply_disruption") is Direction.TIGHTENING
    assert found.get("export_control") is Direction.TIGHTENING
