"""Severity and score from base severity and evidence, and the re-grading hook for sources."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from watcher.classify.engine import Classifier
from watcher.classify.severity import Weight, for_sources, grade, score, weight_of
from watcher.config.load import load_config
from watcher.domain.items import Severity


@pytest.mark.parametrize(
    ("base", "weight", "expected"),
    [
        (Severity.MEDIUM, Weight(), Severity.MEDIUM),
        (Severity.MEDIUM, Weight(in_title=True), Severity.HIGH),
        (Severity.MEDIUM, Weight(sentences=3), Severity.HIGH),
        (Severity.MEDIUM, Weight(in_title=True, sentences=3), Severity.CRITICAL),
        (Severity.HIGH, Weight(in_title=True, sentences=3, sources=2), Severity.CRITICAL),
        (Severity.LOW, Weight(sources=2), Severity.MEDIUM),
        (Severity.HIGH, Weight(in_title=True, speculative=True), Severity.MEDIUM),
        (Severity.LOW, Weight(speculative=True), Severity.LOW),
    ],
)
def test_grade(base: Severity, weight: Weight, expected: Severity) -> None:
    """Headline, three body sentences and two sources each raise one step; speculation lowers."""
    assert grade(base, weight) is expected


def test_score_grows_with_evidence_and_halves_when_speculative() -> None:
    """More evidence scores higher, never above 1; a speculative signal scores half."""
    one = score(Weight())
    assert one < score(Weight(sentences=2)) < score(Weight(in_title=True, sentences=2))
    assert score(Weight(in_title=True, sentences=9, sources=9)) == 1.0
    assert score(Weight(speculative=True)) == pytest.approx(one / 2)


def test_sources_hook_regrades_a_classified_signal() -> None:
    """`for_sources` re-grades a signal when clustering finds its story in several sources."""
    config = load_config(ROOT / "config" / "watcher.yaml", environ={})
    classifier = Classifier.from_config(config)
    (signal,) = classifier.classify("", "The rare earth quota is delayed.")
    base = config.signals[signal.rule].severity
    assert grade(base, weight_of(signal)) is signal.severity  # the hook sees what engine saw
    assert signal.severity is Severity.MEDIUM
    again = for_sources(signal, base, sources=3)
    assert again.severity is Severity.HIGH
    assert again.score > signal.score
    assert again.evidence == signal.evidence
