"""Item-level denial (`classify/denial.py`) and its hook in the engine, on sentences
written for them: a disruption the item says elsewhere left the operation running is no
ore disruption (issue 17)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import ROOT
from watcher.classify.denial import denials, is_denied
from watcher.classify.engine import Classifier
from watcher.classify.text import Sentence, split_sentences
from watcher.config.load import load_config
from watcher.domain.items import Direction

PUBLISHED = date(2025, 12, 1)
ORE = "ore_supply_disruption"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of config/watcher.yaml (default rules included)."""
    return Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml", environ={}))


def _ore(classifier: Classifier, body: str) -> Direction | None:
    found = {s.type: s.direction for s in classifier.classify("", body, published=PUBLISHED)}
    return found.get(ORE)


@pytest.mark.parametrize(
    "text",
    [
        "Output at the lithium mine was not affected, the company said.",
        "Production has not been materially affected by the stoppage.",
        "The strike had no impact on production at the copper mine.",
        "The mines are still operational while the appeal runs.",
        "Mining will continue to operate as usual during the lockdown.",
        "The other shifts reported for work normally.",
        "公司表示,产量没有受到显著影响。",
        "当地矿山正常生产。",
        "封锁期间采矿业将继续运作。",
        "临时工人抵消了罢工的影响。",
    ],
)
def test_a_statement_that_operations_run_is_a_denial(text: str) -> None:
    assert denials(text)


@pytest.mark.parametrize(
    "text",
    [
        "Prices were unaffected by the news.",  # no operation, no output
        "The smelters were operating well below their normal rates.",  # not normal
        "The plant could not continue to operate normally after the flood.",  # negated
        "The mine had been operating normally until the landslide.",  # an earlier state
        "The mine may continue to operate as usual if the talks succeed.",  # doubted
        "该矿已恢复正常生产。",  # a resumption: the rules' easing, not a denial
        "受洪水影响,矿山无法正常生产。",  # negated
    ],
)
def test_a_market_state_a_negated_or_an_earlier_state_is_not(text: str) -> None:
    assert not denials(text)


def test_a_denial_of_one_unit_leaves_the_others() -> None:
    """An item that tells units apart ("other areas ... as usual") denies nothing of
    the unit it reports disrupted."""
    text = (
        "Flooding halted the north pit of the copper mine. "
        "Mining operations in other areas of the project continue to operate as usual."
    )
    sentences = split_sentences(text)
    assert denials(text)
    assert not is_denied(text, sentences, [0])
    assert is_denied(
        "Flooding halted the copper mine. Operations were not affected, the company said.",
        [Sentence(0, 32), Sentence(33, 80)],
        [0],
    )


@pytest.mark.parametrize(
    "body",
    [
        "Workers at the Alpha copper mine in Chile went on strike on Monday. "
        "The company said production was not affected and the mine continues to operate "
        "normally.",
        "Authorities ordered the closure of the Alpha copper mine over safety violations "
        "on Monday. The miner has appealed and the mine is still operational.",
        "秘鲁宣布封锁铜矿产区以遏制疫情。公司表示,矿山正常生产,产量未受影响。",
    ],
)
def test_an_ore_disruption_the_item_denies_is_no_signal(classifier: Classifier, body: str) -> None:
    """(Each body without its denial is an ore disruption, tightening, for these rules.)"""
    assert _ore(classifier, body) is None


@pytest.mark.parametrize(
    "body",
    [
        # the disruption alone: the rules report it
        "Workers at the Alpha copper mine in Chile went on strike on Monday, halting output.",
        # a denial of other units leaves the disrupted one
        "Flooding suspended mining at the Alpha copper mine's north pit on Monday. "
        "Mining operations in other areas of the project continue to operate as usual.",
        "环保督察期间,当地锡矿企业除一家外已全部停产。另一家企业表示正常生产未受影响。",
    ],
)
def test_a_disruption_not_denied_for_its_unit_is_kept(classifier: Classifier, body: str) -> None:
    assert _ore(classifier, body) is Direction.TIGHTENING
