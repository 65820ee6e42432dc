"""Structural readings of the default rules (issue 17, h34q), on sentences written for
them: an exemption clause leaves its words out of the rule at any length, recycled
feedstock is no ore, and a pronoun naming the quota of the sentence before carries its
change."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import ROOT
from watcher.classify.engine import Classifier
from watcher.config.load import load_config
from watcher.domain.items import Direction

PUBLISHED = date(2026, 6, 1)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of config/watcher.yaml (default rules included)."""
    return Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml", environ={}))


def _found(classifier: Classifier, body: str) -> dict[str, Direction]:
    return {s.type: s.direction for s in classifier.classify("", body, published=PUBLISHED)}


def test_a_clause_closing_in_an_exemption_imposes_nothing_however_long(
    classifier: Classifier,
) -> None:
    """……的除外 exempts the whole clause before it, far beyond the negation window; the
    rule stated in the clause before the exemption still fires."""
    exempting = (
        "已领取2025年稀土废料限制进口类固体废物进口许可证"
        "并且在许可证有效期内完成报关手续的企业除外。"
    )
    assert "scrap_shortage" not in _found(classifier, exempting)
    ruled = (
        "对稀土废料实施进口限制，但在本公告发布之前已经签订合同并且在许可证有效期内"
        "完成全部报关手续的企业除外。"
    )
    assert _found(classifier, ruled).get("scrap_shortage") is Direction.TIGHTENING


def test_an_opening_exemption_covers_what_follows_not_what_precedes(
    classifier: Classifier,
) -> None:
    """ "except where …" leaves its own words out: the ban before it stays tightening, and a
    licence granted inside the exemption does not turn the ban into easing."""
    body = (
        "China banned exports of gallium, except where the exporter holds a licence granted"
        " before the ban."
    )
    assert _found(classifier, body).get("export_control") is Direction.TIGHTENING
    lifted = "Beijing lifted the export ban on gallium, except for shipments to military users."
    assert _found(classifier, lifted).get("export_control") is Direction.EASING


def test_black_mass_shipments_curbed_are_no_ore_disruption(classifier: Classifier) -> None:
    """Black mass is recycled feedstock (SIGNALS.md: scrap), so curbing its shipments does
    not fire the ore rule; the same sentence about ore concentrate still does."""
    assert "ore_supply_disruption" not in _found(
        classifier, "Indonesia is curbing its shipments of black mass to Korea this month."
    )
    assert (
        _found(
            classifier,
            "Indonesia is curbing its shipments of nickel concentrate to Korea this month.",
        ).get("ore_supply_disruption")
        is Direction.TIGHTENING
    )


@pytest.mark.parametrize(
    ("body", "direction"),
    [
        (
            "Beijing has set the first tungsten mining quota for 2026. "
            "According to the ministry, it amounts to 60,000 tonnes, 8% more than a year earlier.",
            Direction.EASING,
        ),
        (
            "Jakarta has approved the 2026 nickel ore quota. "
            "The total is 220 million tonnes, 15% less than in 2025.",
            Direction.TIGHTENING,
        ),
    ],
)
def test_a_pronoun_after_a_quota_sentence_carries_the_quota_change(
    classifier: Classifier, body: str, direction: Direction
) -> None:
    """ "It amounts to …, 8% more": the change is the quota's of the sentence before."""
    assert _found(classifier, body).get("quota_delay") is direction


def test_a_pronoun_not_right_after_a_quota_sentence_names_no_quota(
    classifier: Classifier,
) -> None:
    """Only the sentence right after the quota's reads its pronoun as the quota: a change
    of exports two sentences later is no quota change."""
    body = (
        "Beijing has set the first tungsten mining quota for 2026. "
        "Prices were steady in the week. "
        "It was 8% more than a year earlier, customs data showed for tungsten exports."
    )
    assert "quota_delay" not in _found(classifier, body)


@pytest.mark.parametrize(
    "body",
    [
        "假设明年稀土开采指标增速继续下降，国内供应将趋紧。",
        "Assuming the rare earth mining quota is cut again next year, supply would tighten.",
    ],
)
def test_an_assumption_is_a_hypothetical(classifier: Classifier, body: str) -> None:
    """ "Assuming …" (假设) states a hypothetical as "if" does: speculative, not news."""
    signals = {s.type: s for s in classifier.classify("", body, published=PUBLISHED)}
    assert signals["quota_delay"].speculative
