"""Severity and score of a signal, from the rule's base severity and the weight of evidence.

Evidence raises the base severity one step each for: a match in the headline, the
signal stated in several body sentences (at least `SEVERAL_SENTENCES`), and the story
reported by several sources (at least `SEVERAL_SOURCES`). The classifier sees one item,
so it always grades with one source; story clustering, which knows how many sources
carry a story, re-grades a signal with `for_sources`. A speculative signal is one step
below its base instead. The result is capped at critical.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from watcher.domain.items import Severity, Signal

SEVERAL_SENTENCES = 3
SEVERAL_SOURCES = 2
SPECULATIVE_FACTOR = 0.5


class Weight(NamedTuple):
    """What the evidence of one signal amounts to."""

    in_title: bool = False
    sentences: int = 1
    sources: int = 1
    speculative: bool = False


def weight_of(signal: Signal, sources: int = 1) -> Weight:
    """The weight of a signal's own evidence, as if `sources` sources carried it."""
    return Weight(
        in_title=any(e.in_title for e in signal.evidence),
        sentences=sum(not e.in_title for e in signal.evidence),
        sources=sources,
        speculative=signal.speculative,
    )


def grade(base: Severity, weight: Weight) -> Severity:
    """The severity of a signal of base severity `base` carried by this evidence."""
    if weight.speculative:
        return base.raised(-1) if base.rank > 0 else base
    steps = (
        int(weight.in_title)
        + int(weight.sentences >= SEVERAL_SENTENCES)
        + int(weight.sources >= SEVERAL_SOURCES)
    )
    return base.raised(steps)


def score(weight: Weight) -> float:
    """Confidence 0–1: 0.55 for one sentence, more for a headline, more sentences, sources."""
    value = 0.55 + 0.15 * weight.in_title + 0.1 * min(max(weight.sentences - 1, 0), 2)
    value += 0.1 * min(weight.sources - 1, 2)
    if weight.speculative:
        value *= SPECULATIVE_FACTOR
    return round(min(1.0, value), 3)


def for_sources(signal: Signal, base: Severity, sources: int) -> Signal:
    """The signal re-graded once its story is known to be carried by `sources` sources.

    `base` is the severity of the rule that fired (`config.signals[signal.rule].severity`).
    """
    weight = weight_of(signal, sources)
    return dataclasses.replace(signal, severity=grade(base, weight), score=score(weight))
