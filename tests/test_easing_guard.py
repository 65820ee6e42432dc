"""The easing guard (issue 17): which words are evidence of easing, and what it does to a
tightening signal. Sentences are written for these tests, not taken from labelled sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from watcher.classify.direction import EASING
from watcher.classify.easing import SIGN, dates_earlier, easing_events
from watcher.classify.engine import Classifier
from watcher.config.load import load_config
from watcher.domain.folding import fold, lower_folded
from watcher.domain.items import Direction, Severity


def _events(sentence: str) -> list[tuple[str, str]]:
    text = lower_folded(fold(sentence))
    return [(text[m.start : m.end], m.label) for m in easing_events(text, 0, len(text))]


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        ("Beijing suspended the implementation of the October export controls.", "suspended the"),
        ("Jakarta lifted its ban on bauxite exports.", "lifted"),
        ("The ministry has scrapped the 2023 export tax on concentrate.", "scrapped the"),
        ("Customs waived the licence requirement for magnet shipments.", "waived"),
        ("The Grasberg mine resumed operations on Monday.", "resumed"),
        ("The border crossing at Kambaiti reopened to ore trucks.", "reopened"),
        ("Trucks are moving ore again across the border.", "moving again"),
        ("The strike is effectively over, the company said.", "strike is effectively over"),
        ("The commerce ministry approved export licences for gallium.", "approved"),
        ("The government extended Freeport's export permit to December.", "extended"),
        ("商务部宣布暂停实施相关出口管制措施。", "暂停实施"),
        ("缅甸克钦邦稀土矿山陆续复产。", "复产"),
        ("海关已解除对稀土矿的限制。", "解除"),
    ],
)
def test_an_easing_event_is_found(sentence: str, words: str) -> None:
    """Events that undo a measure or a disruption, in any rule's words or none, are
    easing events (SIGNALS.md's easing column, read broadly)."""
    found = _events(sentence)
    assert any(label == EASING for _, label in found), found
    assert any(all(w in text for w in words.split()) for text, _ in found), found


@pytest.mark.parametrize(
    "sentence",
    [
        "China raised the rare earth mining quota by 20% this year.",
        "Scrap supply is ample, dealers say.",
        "Rare earth imports from Myanmar rose sharply in May.",
        "稀土开采总量控制指标较去年增长6.1%。",
    ],
)
def test_a_sign_of_easing_is_found_apart_from_events(sentence: str) -> None:
    """A quota issued or raised, flows rising, feedstock ample: signs of easing that may
    doubt a tightening but never turn it (they are not events that undo one)."""
    found = _events(sentence)
    assert found
    assert all(label == SIGN for _, label in found), found


@pytest.mark.parametrize(
    "sentence",
    [
        "The controls have not yet been lifted.",
        "The mine has yet to resume output.",
        "No date has been set to reopen the border.",
        "Freeport has requested the government relax its export ban and allow more exports.",
        "Analysts expect Beijing could ease the controls.",
        "Malaysia's cabinet approved a moratorium on raw rare earth exports.",
        "The ministry approved the requests of 120 companies out of 723.",
        "The government approves a new policy for lithium mining.",
        "Miners are awaiting approval to restart production.",
        "镍矿尚未恢复生产。",
        "出口须经商务部批准。",
        "商务部已批准部分锑出口许可。",
        "企业将与政府谈判，以解除管制措施。",
        "The ministry reinstated the licensing requirement for gallium exports.",
    ],
)
def test_a_negated_hedged_or_restrictive_easing_is_no_event(sentence: str) -> None:
    """A negated or deferred easing is tightening (SIGNALS.md), a wished or possible one no
    news, a grant of a restriction, a policy or a part of the requests no easing."""
    assert _events(sentence) == []


@pytest.mark.parametrize(
    ("sentence", "earlier"),
    [
        ("CATL suspended operations after a licence expired on August 9.", True),
        ("The mine had been halted since October.", True),
        ("此前，当地锂矿停产整改。", True),
        ("Floods halt two rare earth mines.", False),
    ],
)
def test_a_sentence_dating_its_event_earlier(sentence: str, earlier: bool) -> None:
    """Only a tightening dated before the news can be what a lead easing undoes."""
    text = lower_folded(fold(sentence))
    assert dates_earlier(text, 0, len(text)) is earlier


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of config/watcher.yaml (default rules included)."""
    return Classifier.from_config(load_config(Path(ROOT) / "config" / "watcher.yaml", environ={}))


def test_a_lead_easing_event_over_the_halt_it_undoes_is_easing(classifier: Classifier) -> None:
    """A headline strike settlement, the halt it ended dated earlier in the body: the
    direction is easing, sent at no more than the easing cap."""
    (signal,) = classifier.classify(
        "Union accepts new wage agreement at Chilean copper mine",
        "The union said on Friday that members voted for the deal. Output at the copper mine"
        " had been halted since the walk-off began in October.",
    )
    assert signal.direction is Direction.EASING
    assert signal.severity.rank <= Severity.MEDIUM.rank


def test_a_halt_not_dated_earlier_is_doubted_not_turned(classifier: Classifier) -> None:
    """The same headline over a halt the body reports as news: the halt may still be
    going on, so the signal stays tightening, flagged uncertain, and says why."""
    (signal,) = classifier.classify(
        "Union accepts new wage agreement at Chilean copper mine",
        "The union said on Friday that members voted for the deal. A second union halted"
        " output at the copper mine on Friday.",
    )
    assert (signal.direction, signal.direction_uncertain) == (Direction.TIGHTENING, True)
    assert "'accepts new wage agreement'" in signal.direction_doubt
    assert "also reports an easing" in signal.direction_doubt
