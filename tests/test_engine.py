"""Rule engine behaviour, table-driven from tests/data/classify/engine.yaml."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from tests.conftest import DATA
from watcher.classify.engine import Classifier
from watcher.config import SignalRule
from watcher.domain.items import Severity

TABLE: dict[str, Any] = yaml.safe_load(
    (DATA / "classify" / "engine.yaml").read_text(encoding="utf-8")
)
CASES: list[dict[str, Any]] = TABLE["cases"]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of the hand-made rule set at the top of engine.yaml."""
    config = TABLE["config"]
    rules = {name: SignalRule.model_validate(rule) for name, rule in config["signals"].items()}
    return Classifier(config["concepts"], rules)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rule_behaviour(classifier: Classifier, case: dict[str, Any]) -> None:
    """The item gives exactly the expected signals, with direction and any flags listed."""
    signals = classifier.classify(case.get("title", ""), case["body"])
    assert [s.type for s in signals] == [e["type"] for e in case["signals"]]
    for signal, expected in zip(signals, case["signals"], strict=True):
        assert signal.direction.value == expected["direction"]
        if "speculative" in expected:
            assert signal.speculative is expected["speculative"]
        if "severity" in expected:
            assert signal.severity is Severity(expected["severity"])
        assert signal.direction_uncertain is expected.get("uncertain", False)


def test_evidence_marks_the_matched_terms(classifier: Classifier) -> None:
    """Evidence is the sentence, with spans on the trigger and the cue that set the direction."""
    (signal,) = classifier.classify("", "Prices rose. Rare earth mines have not resumed.")
    (evidence,) = signal.evidence
    assert evidence.sentence == "Rare earth mines have not resumed."
    assert evidence.marked() == "Rare earth [mines] have not [resumed]."
    assert {s.concept for s in evidence.spans} == {"mine", "resume"}
    assert signal.rule == "ore_supply_disruption"


def test_scores_rank_weight_of_evidence(classifier: Classifier) -> None:
    """A headline match scores above a body match, and a speculative one below both."""
    (title,) = classifier.classify("Rare earth quota delayed", "")
    (body,) = classifier.classify("", "The rare earth quota is delayed.")
    (hedged,) = classifier.classify("", "The rare earth quota may be delayed.")
    assert hedged.score < body.score < title.score <= 1.0


def test_entities_come_from_the_evidence_sentences() -> None:
    """Elements, products and countries named in the evidence (else in the item) are listed."""
    rules = {"quota_delay": SignalRule.model_validate(TABLE["config"]["signals"]["quota_delay"])}
    classifier = Classifier(TABLE["config"]["concepts"], rules)
    (signal,) = classifier.classify(
        "Myanmar note", "China's dysprosium (Dy) oxide quota is delayed. Tb is flat."
    )
    assert signal.entities.elements == ("Dy",)
    assert signal.entities.products == ("oxide",)
    assert set(signal.entities.countries) == {"China"}


def test_chinese_terms_carry_the_english_gloss(classifier: Classifier) -> None:
    """A Chinese span carries its term's gloss (else its concept's); English spans none."""
    (signal,) = classifier.classify("", "商務部暫停實施稀土出口禁止措施。")
    (evidence,) = signal.evidence
    glosses = {evidence.sentence[s.start : s.end]: s.gloss for s in evidence.spans}
    assert glosses["暫停實施"] == "suspend a measure"
    assert evidence.marked(glossed=True).startswith("[商務部][暫停實施] (suspend a measure)")
    assert classifier.gloss("suspend_controls") == "controls suspended"
    assert classifier.gloss("suspend_controls", "暂停实施") == "suspend a measure"
    (english,) = classifier.classify("", "China suspended the controls on rare earth exports.")
    assert all(s.gloss == "" for e in english.evidence for s in e.spans)


def test_published_date_makes_an_old_year_background(classifier: Classifier) -> None:
    """With the item's date, a sentence about a year well before it is background."""
    body = "In 2010 China put controls on rare earth exports."
    assert classifier.classify("", body) != []  # undated: its only year is its own
    assert classifier.classify("", body, published=date(2025, 1, 6)) == []
    assert classifier.classify("", body, published=date(2011, 1, 6)) != []


def test_a_built_classifier_keeps_no_parsed_terms_beside_its_matcher() -> None:
    """Once built, the classifier's matcher alone holds the terms' keys: the forms
    `parse_term` kept are dropped (a few MB with the default rules), and a classifier
    built afterwards from the same terms (parsed afresh) classifies every case alike."""
    from watcher.domain import terms

    config = TABLE["config"]
    rules = {name: SignalRule.model_validate(rule) for name, rule in config["signals"].items()}
    first = Classifier(config["concepts"], rules)
    assert terms._parse_term.cache_info().currsize == 0
    again = Classifier(config["concepts"], rules)
    assert terms._parse_term.cache_info().currsize == 0
    found = [first.classify(case.get("title", ""), case["body"]) for case in CASES]
    assert any(found)
    assert found == [again.classify(case.get("title", ""), case["body"]) for case in CASES]


QUOTA_CONCEPTS: dict[str, Any] = {
    "minerals": ["rare earth*", "tungsten", "稀土"],
    "quota": ["quota*", "first batch", "第一批", "指标"],
    "change_up": ["% higher", "同比增长"],
    "change_down": ["% lower"],
}
QUOTA_RULES = {
    "quota_delay": SignalRule.model_validate(
        {
            "severity": "medium",
            "match": [["quota", "change_up"], ["quota", "change_down"]],
            "anywhere": ["change_up", "change_down"],
            "context": ["minerals"],
            "tightening": ["change_down"],
            "easing": ["change_up"],
        }
    )
}


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "",
            "The 2026 rare earth mining quota is 120,000 tonnes. In 2025 the quota was"
            " 270,000 tonnes.",
            ["tightening"],
        ),
        (
            "China issues first batch of 2026 rare earth quotas",
            "The first batch of 2026 rare earth mining quotas is 150,000 tonnes. Last year's"
            " first batch was 135,000 tonnes.",
            ["easing"],
        ),
        ("", "2026年第一批稀土开采总量控制指标为15万吨。2025年第一批为13.5万吨。", ["easing"]),
        (
            "",
            "The 2026 rare earth mining quota is 120,000 tonnes, compared with 270,000"
            " tonnes in 2025.",
            ["tightening"],
        ),
        # a batch is no whole year, tungsten's quota no prior for rare earths', the same
        # figure no change, and two figures in one sentence no single reading
        (
            "",
            "The first batch of 2026 rare earth quotas is 60,000 tonnes. The 2025 quota was"
            " 270,000 tonnes.",
            [],
        ),
        (
            "",
            "The 2026 tungsten mining quota is 60,000 tonnes. The 2025 rare earth quota was"
            " 270,000 tonnes.",
            [],
        ),
        (
            "",
            "The 2026 rare earth quota is 120,000 tonnes. The 2025 quota was 120,000 tonnes.",
            [],
        ),
        (
            "",
            "The 2026 rare earth mining and smelting quotas are 120,000 tonnes and 110,000"
            " tonnes. The 2025 quota was 100,000 tonnes.",
            [],
        ),
    ],
)
def test_quota_figures_compared_across_sentences_give_the_change(
    title: str, body: str, expected: list[str]
) -> None:
    """A quota figure set against the prior period's (same batch, same mineral), in
    another sentence or after "compared with", reads as a cut or a raise; without a
    comparable prior figure there is no signal (a routine issue is no news)."""
    classifier = Classifier(QUOTA_CONCEPTS, QUOTA_RULES)
    signals = classifier.classify(title, body)
    assert [s.direction.value for s in signals] == expected


def test_a_change_stated_in_words_is_left_to_the_vocabulary() -> None:
    """An item that states a change in words keeps the vocabulary's reading: a breakdown
    figure in another sentence is not compared with the prior year's total."""
    classifier = Classifier(QUOTA_CONCEPTS, QUOTA_RULES)
    body = (
        "The 2026 rare earth quota is 140,000 tonnes, 6% higher than 2025. In 2026 the"
        " rock ore quota is 121,000 tonnes. The 2025 quota was 132,000 tonnes."
    )
    [signal] = classifier.classify("", body)
    assert signal.direction.value == "easing"


TRADE_QUOTA_CONCEPTS: dict[str, Any] = {
    "minerals": ["rare earth*"],
    "trade_quota": ["export quota*"],
}
TRADE_QUOTA_RULES = {
    "export_control": SignalRule.model_validate(
        {"match": [["trade_quota"]], "context": ["minerals"], "direction": "tightening"}
    )
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "The rare earth export quota is 31,000 tonnes, an increase of 3 percent from last"
            " year.",
            "easing",
        ),
        (
            "The rare earth export quota is 29,000 tonnes, a cut of 4% on the previous year.",
            "tightening",
        ),
        # an increase of something else, not against the prior period: the default stands
        ("The rare earth export quota is 31,000 tonnes, an increase of 3 percent.", "tightening"),
    ],
)
def test_an_undirected_quota_takes_the_size_change_its_sentence_states(
    body: str, expected: str
) -> None:
    """A quota match no cue directs takes the direction of its size change against the
    prior period stated as a noun phrase ("an increase of 3 percent from last year")."""
    classifier = Classifier(TRADE_QUOTA_CONCEPTS, TRADE_QUOTA_RULES)
    [signal] = classifier.classify("", body)
    assert signal.direction.value == expected
