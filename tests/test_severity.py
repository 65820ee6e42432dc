"""Severity and score from base severity and evidence, and the re-grading hook for sources."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import ROOT
from watcher.classify.engine import Classifier
from watcher.classify.severity import (
    EASING_CAP,
    Weight,
    for_sources,
    grade,
    raised_for_sources,
    score,
    weight_of,
)
from watcher.config.load import load_config
from watcher.domain.items import Direction, Item, Outbound, Severity
from watcher.notify.dispatch import _graded


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
        (Severity.HIGH, Weight(capped=True), Severity.MEDIUM),
        (Severity.MEDIUM, Weight(in_title=True, sentences=3, capped=True), Severity.MEDIUM),
        (Severity.LOW, Weight(in_title=True, capped=True), Severity.MEDIUM),
    ],
)
def test_grade(base: Severity, weight: Weight, expected: Severity) -> None:
    """Headline, three body sentences and two sources each raise one step; speculation
    lowers; an easing (capped) signal never goes above medium."""
    assert grade(base, weight) is expected


def test_score_grows_with_evidence_and_halves_when_speculative() -> None:
    """More evidence scores higher, never above 1; a speculative signal scores half."""
    one = score(Weight())
    assert one < score(Weight(sentences=2)) < score(Weight(in_title=True, sentences=2))
    assert score(Weight(in_title=True, sentences=9, sources=9)) == 1.0
    assert score(Weight(speculative=True)) == pytest.approx(one / 2)


def test_sources_hook_regrades_a_classified_signal() -> None:
    """`for_sources` raises a signal one step when clustering finds its story in several sources."""
    config = load_config(ROOT / "config" / "watcher.yaml", environ={})
    classifier = Classifier.from_config(config)
    (signal,) = classifier.classify("", "The rare earth quota is delayed.")
    base = config.signals[signal.rule].severity
    assert grade(base, weight_of(signal)) is signal.severity  # the hook sees what engine saw
    assert signal.severity is Severity.MEDIUM
    again = for_sources(signal, sources=3)
    assert again.severity is Severity.HIGH
    assert again.score > signal.score
    assert again.evidence == signal.evidence
    assert for_sources(signal, sources=1) == signal


@pytest.mark.parametrize(
    ("severity", "sources", "direction", "flags", "expected"),
    [
        (Severity.MEDIUM, 1, Direction.TIGHTENING, {}, Severity.MEDIUM),
        (Severity.MEDIUM, 2, Direction.TIGHTENING, {}, Severity.HIGH),
        (Severity.CRITICAL, 5, Direction.TIGHTENING, {}, Severity.CRITICAL),
        (Severity.LOW, 2, Direction.EASING, {}, Severity.MEDIUM),
        (Severity.MEDIUM, 9, Direction.EASING, {}, EASING_CAP),
        (Severity.MEDIUM, 3, Direction.TIGHTENING, {"uncertain": True}, EASING_CAP),
        (Severity.LOW, 3, Direction.TIGHTENING, {"speculative": True}, Severity.LOW),
    ],
)
def test_raised_for_sources_never_lifts_easing_to_a_tightening_severity(
    severity: Severity,
    sources: int,
    direction: Direction,
    flags: dict[str, bool],
    expected: Severity,
) -> None:
    """Two or more sources raise one step; easing or uncertain stop at medium; rumours stay."""
    assert raised_for_sources(severity, sources, direction, **flags) is expected


def test_an_easing_item_is_never_graded_above_medium() -> None:
    """A headline suspension of controls repeated in the body stays at medium severity."""
    config = load_config(ROOT / "config" / "watcher.yaml", environ={})
    classifier = Classifier.from_config(config)
    title = "China suspends rare earth export controls"
    body = (
        "China suspended its rare earth export controls on Monday. The suspension of the"
        " export controls runs for a year. Exporters said the suspended controls had cut"
        " shipments by half."
    )
    (signal,) = classifier.classify(title, body)
    assert signal.direction is Direction.EASING
    assert signal.severity is Severity.MEDIUM
    assert for_sources(signal, sources=4).severity is Severity.MEDIUM


def test_a_tightening_doubted_by_evidence_of_easing_stays_at_medium_for_any_sources() -> None:
    """A halt reported in three sentences (high, from a medium rule) that the item also
    reports settled in words no rule's cue names is uncertain: held at medium, also when
    several sources carry its story (issue 17)."""
    config = load_config(ROOT / "config" / "watcher.yaml", environ={})
    classifier = Classifier.from_config(config)
    body = (
        "Kachin state supplies much of the heavy rare earth feed for southern China. A strike"
        " halted two rare earth mines there in early June. A third rare earth mine was also"
        " halted by the strike. The union at the mines accepted a new wage agreement on Friday."
    )
    (signal,) = classifier.classify("", body)
    assert (signal.direction, signal.direction_uncertain) == (Direction.TIGHTENING, True)
    assert "'accepted a new wage agreement'" in signal.direction_doubt
    assert signal.severity is Severity.MEDIUM
    assert for_sources(signal, sources=3).severity is Severity.MEDIUM


def test_an_alert_is_graded_for_the_sources_its_story_has_when_sent() -> None:
    """The dispatcher raises an alert's signal one step when clustering lists another
    source for its story, and leaves a story of one source as classified."""
    config = load_config(ROOT / "config" / "watcher.yaml", environ={})
    classifier = Classifier.from_config(config)
    (signal,) = classifier.classify("", "The rare earth quota is delayed.")
    alone = Outbound(
        message_id="<m@x>",
        subscriber="analyst",
        delivery_ids=(1,),
        attempts=0,
        item=Item(source="wire", title="", body="The rare earth quota is delayed."),
        signals=(signal,),
    )
    assert _graded(alone).signals == (signal,)
    carried = dataclasses.replace(alone, also_reported_by=("reprint",))
    (raised,) = _graded(carried).signals
    assert raised.severity is Severity.HIGH
    assert signal.severity is Severity.MEDIUM
