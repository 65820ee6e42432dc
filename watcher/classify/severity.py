"""Severity and score of a signal, from the rule's base severity and the weight of evidence.

Evidence raises the base severity one step each for: a match in the headline, the
signal stated in several body sentences (at least `SEVERAL_SENTENCES`), and the story
reported by several sources (at least `SEVERAL_SOURCES`). A speculative signal is one
step below its base instead. The result is capped at critical, and an easing signal (or
one whose direction is uncertain) at `EASING_CAP`: high and critical are tightening
severities, and an easing item is never sent at one (SIGNALS.md, "Severity").

The classifier sees one item, so it grades as if one source carried it. The store,
which learns from story clustering how many sources carry a story, raises a signal
with `raised_for_sources` (or `for_sources` for the whole signal); both keep the cap.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from watcher.domain.items import Direction, Severity, Signal

SEVERAL_SENTENCES = 3
SEVERAL_SOURCES = 2
SPECULATIVE_FACTOR = 0.5
EASING_CAP = Severity.MEDIUM


class Weight(NamedTuple):
    """What the evidence of one signal amounts to."""

    in_title: bool = False
    sentences: int = 1
    sources: int = 1
    speculative: bool = False
    capped: bool = False
    """Easing, or a direction the classifier is not sure of: at most `EASING_CAP`."""


def weight_of(signal: Signal, sources: int = 1) -> Weight:
    """The weight of a signal's own evidence, as if `sources` sources carried it."""
    return Weight(
        in_title=any(e.in_title for e in signal.evidence),
        sentences=sum(not e.in_title for e in signal.evidence),
        sources=sources,
        speculative=signal.speculative,
        capped=is_capped(signal.direction, signal.direction_uncertain),
    )


def is_capped(direction: Direction, uncertain: bool = False) -> bool:
    """True when a signal of this direction may not reach a tightening severity."""
    return direction is Direction.EASING or uncertain


def grade(base: Severity, weight: Weight) -> Severity:
    """The severity of a signal of base severity `base` carried by this evidence."""
    if weight.speculative:
        severity = base.raised(-1) if base.rank > 0 else base
    else:
        steps = (
            int(weight.in_title)
            + int(weight.sentences >= SEVERAL_SENTENCES)
            + int(weight.sources >= SEVERAL_SOURCES)
        )
        severity = base.raised(steps)
    return _capped(severity, weight.capped)


def _capped(severity: Severity, capped: bool) -> Severity:
    return EASING_CAP if capped and severity.rank > EASING_CAP.rank else severity


def score(weight: Weight) -> float:
    """Confidence 0–1: 0.55 for one sentence, more for a headline, more sentences, sources."""
    value = 0.55 + 0.15 * weight.in_title + 0.1 * min(max(weight.sentences - 1, 0), 2)
    value += 0.1 * min(weight.sources - 1, 2)
    if weight.speculative:
        value *= SPECULATIVE_FACTOR
    return round(min(1.0, value), 3)


def raised_for_sources(
    severity: Severity,
    sources: int,
    direction: Direction,
    *,
    uncertain: bool = False,
    speculative: bool = False,
) -> Severity:
    """The severity of a signal graded `severity` for one item, once its story is known
    to be carried by `sources` sources: one step up from `SEVERAL_SOURCES` on, never for a
    speculative signal, and never above `EASING_CAP` for an easing or uncertain one."""
    if speculative or sources < SEVERAL_SOURCES:
        return severity
    return _capped(severity.raised(1), is_capped(direction, uncertain))


def for_sources(signal: Signal, sources: int) -> Signal:
    """The signal (as the classifier graded it for its item) re-graded and re-scored once
    its story is known to be carried by `sources` sources."""
    severity = raised_for_sources(
        signal.severity,
        sources,
        signal.direction,
        uncertain=signal.direction_uncertain,
        speculative=signal.speculative,
    )
    return dataclasses.replace(signal, severity=severity, score=score(weight_of(signal, sources)))
