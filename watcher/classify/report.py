"""Human-readable explanation of signals, for `watcher classify` and backtests."""

from __future__ import annotations

from collections.abc import Sequence

from watcher.domain.items import Evidence, Signal


def describe_signals(name: str, signals: Sequence[Signal]) -> str:
    """A block of text per signal: rule, direction, severity, score, evidence, entities.

    Matched terms are marked `[like this]` in the evidence, and each is listed with the
    concept it belongs to, which is the why of the match, and for a Chinese term the
    concept's English gloss. A direction the classifier is not sure of says so.
    """
    if not signals:
        return f"{name}: no signal"
    lines = [f"{name}: {len(signals)} signal{'s' if len(signals) != 1 else ''}"]
    for signal in signals:
        lines.extend(describe_signal(signal))
    return "\n".join(lines)


def describe_signal(signal: Signal, indent: str = "  ") -> list[str]:
    """The lines that explain one signal."""
    flags = " (speculative)" if signal.speculative else ""
    direction = signal.direction.value + (" (uncertain)" if signal.direction_uncertain else "")
    lines = [
        f"{indent}{signal.type} · {direction} · {signal.severity.value}"
        f" · score {signal.score:.2f}{flags}  [rule {signal.rule}]"
    ]
    if signal.direction_uncertain and signal.direction_doubt:
        lines.append(f"{indent}  direction uncertain: {signal.direction_doubt}")
    for evidence in signal.evidence:
        where = " (title)" if evidence.in_title else ""
        lines.append(f"{indent}  > {evidence.marked()}{where}")
        lines.append(f"{indent}    matched: {matched_terms(evidence)}")
    entities = signal.entities
    for label, values in (
        ("elements", entities.elements),
        ("products", entities.products),
        ("countries", entities.countries),
    ):
        if values:
            lines.append(f"{indent}  {label}: {', '.join(values)}")
    return lines


def matched_terms(evidence: Evidence) -> str:
    """`'term' (concept, …), …` for every matched span of the evidence, in text order; a
    glossed term reads `'暫停實施' = suspend a measure (export_ease_event)`."""
    concepts: dict[tuple[int, int], list[str]] = {}
    glosses: dict[tuple[int, int], str] = {}
    for span in sorted(evidence.spans, key=lambda s: (s.start, s.end)):
        names = concepts.setdefault((span.start, span.end), [])
        if span.concept not in names:
            names.append(span.concept)
        if span.gloss:
            glosses.setdefault((span.start, span.end), span.gloss)
    return ", ".join(
        f"{evidence.sentence[start:end]!r}"
        + (f" = {glosses[start, end]}" if (start, end) in glosses else "")
        + f" ({', '.join(names)})"
        for (start, end), names in concepts.items()
    )
