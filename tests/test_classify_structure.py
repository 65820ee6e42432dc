"""Structural readings of the default rules (issue 17), on sentences written for them:
who acts on an export halt, and which Chinese "since" dates an event to the present."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import ROOT
from watcher.classify.background import follows_earlier, is_dated_background
from watcher.classify.engine import Classifier
from watcher.classify.text import Sentence
from watcher.config.load import load_config
from watcher.domain.items import Direction

PUBLISHED = date(2025, 12, 1)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of config/watcher.yaml (default rules included)."""
    return Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml", environ={}))


def _found(classifier: Classifier, body: str) -> dict[str, Direction]:
    return {s.type: s.direction for s in classifier.classify("", body, published=PUBLISHED)}


@pytest.mark.parametrize(
    "body",
    [
        "The miner halted cobalt exports from its Kasombo mine after finding uranium in the ore.",
        "Two producers suspended lithium concentrate shipments from their mines this week.",
    ],
)
def test_a_producer_halting_its_own_exports_is_an_ore_disruption(
    classifier: Classifier, body: str
) -> None:
    """A company halting the exports of its own site holds back primary supply
    (ore_supply_disruption, tightening); no government restricts exports."""
    found = _found(classifier, body)
    assert found.get("ore_supply_disruption") is Direction.TIGHTENING
    assert "export_control" not in found


def test_a_government_export_ban_stays_an_export_control(classifier: Classifier) -> None:
    """The near miss: a government halting exports is export_control, and the ore rule
    keeps out of it."""
    found = _found(
        classifier, "The government halted cobalt ore exports to curb smuggling, the ministry said."
    )
    assert found.get("export_control") is Direction.TIGHTENING
    assert "ore_supply_disruption" not in found


@pytest.mark.parametrize(
    ("sentence", "background"),
    [
        # "for a long time" / "all along" date nothing to the present
        ("该集团长期以来计划扩建矿山,但在2009年暂停了该计划。", True),
        ("該集團一直以來計劃擴建礦山,但在2009年暫停了該計劃。", True),
        # "since 2009" runs to the present: a state still going on is news
        ("自2009年以来,该矿一直停产。", False),
    ],
)
def test_only_a_since_that_runs_to_now_keeps_an_old_year_news(
    sentence: str, background: bool
) -> None:
    """An old year makes a sentence background unless a word carries it to the present:
    以来 after a date does, 长期以来 and 一直以来 ("for a long time") do not."""
    assert is_dated_background(sentence, Sentence(0, len(sentence)), 2025) is background


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the release named again after the quota, set after a wait: a late quota issued
        (
            "Beijing has issued its first 2026 rare earth mining quotas to state groups. "
            "The quiet release follows months of delay.",
            {"quota_delay": Direction.EASING},
        ),
        # a release with no quota before it refers to nothing
        (
            "The quiet release follows months of delay, rare earth traders said.",
            {},
        ),
    ],
)
def test_the_release_named_again_after_a_wait_is_the_quota_issued_late(
    classifier: Classifier, body: str, expected: dict[str, Direction]
) -> None:
    """ "The release" in a later sentence is the quota an earlier sentence names; set
    after months of delay it reports the quota issued late (quota_delay, easing)."""
    assert _found(classifier, body) == expected


@pytest.mark.parametrize(
    ("sentence", "earlier"),
    [
        ("The move follows months of talks with Beijing over export licences.", True),
        ("The quiet release follows months of delay.", False),
        ("The approval followed weeks of waiting by the smelters.", False),
    ],
)
def test_a_wait_the_news_follows_is_no_earlier_event(sentence: str, earlier: bool) -> None:
    """ "Follows months of delay" reports the news as late, not an earlier event as its
    setting; a named earlier event still is one."""
    assert follows_earlier(sentence, Sentence(0, len(sentence))) is earlier


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("未来两年,该公司将对稀土矿区进行生态恢复和植被修复。", {}),
        ("The miner will spend $20 million restoring the vegetation around its lithium mine.", {}),
        # the near miss: output restored at the mine is a restart
        ("该稀土矿本周恢复生产。", {"ore_supply_disruption": Direction.EASING}),
    ],
)
def test_land_restored_at_a_mine_is_no_restart(
    classifier: Classifier, body: str, expected: dict[str, Direction]
) -> None:
    """What 恢复 / restore takes decides: the land or vegetation restored is no signal,
    production restored is ore_supply_disruption easing."""
    assert _found(classifier, body) == expected
