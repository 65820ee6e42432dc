"""Human-readable explanation of signals, for `watcher classify` and backtests."""

from __future__ import annotations

from collections.abc import Sequence

from watcher.items import Signal


def describe_signals(name: str, signals: Sequence[Signal]) -> str:
    """A block of text per signal: rule, direction, severity, score, evidence, entities."""
    if not signals:
        return f"{name}: no signal"
    lines = [f"{name}: {len(signals)} signal{'s' if len(signals) != 1 else ''}"]
    for signal in signals:
        flags = " (speculative)" if signal.speculative else ""
        lines.append(
            f"  {signal.type} · {signal.direction.value} · {signal.severity.value}"
            f" · score {signal.score:.2f}{flags}  [rule {signal.rule}]"
        )
        for evidence in signal.evidence:
            where = " (title)" if evidence.in_title else ""
            lines.append(f"    > {evidence.marked()}{where}")
        entities = signal.entities
        for label, values in (
            ("elements", entities.elements),
            ("products", entities.products),
            ("countries", entities.countries),
        ):
            if values:
                lines.append(f"    {label}: {', '.join(values)}")
    return "\n".join(lines)
