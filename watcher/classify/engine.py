"""The rule engine: an item's sentences × the configured rules → explained signals.

A rule fires on a sentence when all concepts of one of its `match` groups occur in it
(within `within` words when set), the item mentions one of its `context` concepts,
no `exclude` concept is in the sentence, and no negation cue stands within
`negation_window` words of a matched term. Hedging cues mark the sentence speculative.
Direction comes from the nearest direction cue, else the rule's default.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from watcher.classify.lexicon import (
    CASED_COUNTRIES,
    COUNTRIES,
    ELEMENTS,
    MINERALS,
    PRODUCTS,
    SYMBOLS,
)
from watcher.classify.matcher import Match, TermMatcher, is_cjk
from watcher.classify.text import Sentence, fold, fold_lower, split_sentences
from watcher.config import SignalRule, WatcherConfig
from watcher.items import Direction, Entities, Evidence, Signal, Span

_ENTITY_KINDS = ("element", "product", "country")
MAX_EVIDENCE = 3


@dataclass(slots=True)
class _Hit:
    """One sentence on which a rule fired."""

    sentence: int
    spans: list[Match]
    direction: Direction | None
    hedged: bool


class Classifier:
    """Compiled concepts and rules; `classify` is pure and safe to share across tasks."""

    def __init__(self, concepts: Mapping[str, list[str]], rules: Mapping[str, SignalRule]) -> None:
        self.rules = dict(rules)
        self._matcher = TermMatcher()
        for name, terms in concepts.items():
            for term in terms:
                self._matcher.add(term, name)
        for kind, table in (
            ("element", ELEMENTS),
            ("element", MINERALS),
            ("product", PRODUCTS),
            ("country", COUNTRIES),
        ):
            for canonical, terms in table.items():
                for term in terms:
                    self._matcher.add(term, f"{kind}:{canonical}")
        for kind, table in (("element", SYMBOLS), ("country", CASED_COUNTRIES)):
            for canonical, terms in table.items():
                for term in terms:
                    self._matcher.add(term, f"{kind}:{canonical}", cased=True)

    @classmethod
    def from_config(cls, config: WatcherConfig) -> Classifier:
        """The classifier for a validated configuration."""
        return cls(config.concepts, config.signals)

    def classify(self, title: str, body: str) -> list[Signal]:
        """Every signal the rules find in the item, one per signal type, in rule order."""
        text, sentences = _layout(title, body)
        folded = fold(text)
        matches = self._matcher.find(folded, fold_lower(text))
        per_sentence, item_labels = _bucket(matches, sentences)
        signals = []
        for name, rule in self.rules.items():
            if rule.context and not any(c in item_labels for c in rule.context):
                continue
            hits = [
                hit
                for index, found in enumerate(per_sentence)
                if (hit := _fire(rule, index, found, folded)) is not None
            ]
            if hits:
                signals.append(
                    _signal(name, rule, hits, text, sentences, per_sentence, has_title=bool(title))
                )
        return signals


def _layout(title: str, body: str) -> tuple[str, list[Sentence]]:
    """Title and body as one text; the title is always a sentence of its own."""
    title = " ".join(title.split())
    if not title:
        return body, split_sentences(body)
    text = f"{title}\n\n{body}"
    return text, [Sentence(0, len(title)), *split_sentences(body, offset=len(title) + 2)]


def _bucket(
    matches: list[Match], sentences: list[Sentence]
) -> tuple[list[dict[str, list[Match]]], set[str]]:
    """Matches grouped by sentence and by label, plus every label seen in the item."""
    starts = [s.start for s in sentences]
    per_sentence: list[dict[str, list[Match]]] = [{} for _ in sentences]
    labels: set[str] = set()
    for match in matches:
        labels.add(match.label)
        index = bisect_right(starts, match.start) - 1
        if index >= 0 and match.end <= sentences[index].end:
            per_sentence[index].setdefault(match.label, []).append(match)
    return per_sentence, labels


def _distance(text: str, left: int, right: int) -> int:
    """Words between two offsets (two Chinese characters count as one word)."""
    if right <= left:
        return 0
    gap = text[left:right]
    return gap.count(" ") + sum(1 for c in gap if is_cjk(c)) // 2


def _closest(groups: list[list[Match]], text: str) -> tuple[list[Match], int]:
    """One match per concept, chosen to lie as close together as possible, and their spread."""
    best: tuple[list[Match], int] | None = None
    for anchor in groups[0]:
        chosen = [anchor]
        for options in groups[1:]:
            position = anchor.start
            chosen.append(min(options, key=lambda m: abs(m.start - position)))
        spread = _distance(text, min(m.end for m in chosen), max(m.start for m in chosen))
        if best is None or spread < best[1]:
            best = (chosen, spread)
    assert best is not None
    return best


def _fire(rule: SignalRule, index: int, found: dict[str, list[Match]], text: str) -> _Hit | None:
    """The rule's hit on one sentence, or None when it does not fire there."""
    if not found or any(c in found for c in rule.exclude):
        return None
    trigger: list[Match] | None = None
    for group in rule.match:
        if all(c in found for c in group):
            chosen, spread = _closest([found[c] for c in group], text)
            if rule.within is None or spread <= rule.within:
                trigger = chosen
                break
    if trigger is None:
        return None
    cues = {
        direction: [m for c in names for m in found.get(c, ())]
        for direction, names in (
            (Direction.TIGHTENING, rule.tightening),
            (Direction.EASING, rule.easing),
        )
    }
    protected = trigger + cues[Direction.TIGHTENING] + cues[Direction.EASING]
    protected += [m for c in rule.negation_exceptions for m in found.get(c, ())]
    for name in rule.negation:
        for neg in found.get(name, ()):
            if any(
                p.start <= neg.start < p.end or neg.start <= p.start < neg.end for p in protected
            ):
                continue  # part of a matched phrase ("not yet issued", "not only")
            if any(_near(text, neg, t, rule.negation_window) for t in trigger):
                return None
    direction = _direction(cues, trigger, text)
    hedged = any(c in found for c in rule.hedging)
    spans = trigger + cues.get(direction, []) if direction else trigger
    return _Hit(index, spans, direction, hedged)


def _near(text: str, a: Match, b: Match, window: int) -> bool:
    if a.end <= b.start:
        return _distance(text, a.end, b.start) <= window
    return _distance(text, b.end, a.start) <= window


def _direction(
    cues: dict[Direction, list[Match]], trigger: list[Match], text: str
) -> Direction | None:
    """The direction whose cue stands nearest the trigger terms; None without cues."""
    best: tuple[int, Direction] | None = None
    for direction, found in cues.items():
        for cue in found:
            gap = min(
                _distance(text, min(cue.end, t.end), max(cue.start, t.start)) for t in trigger
            )
            if best is None or gap < best[0]:
                best = (gap, direction)
    return best[1] if best else None


def _signal(
    name: str,
    rule: SignalRule,
    hits: list[_Hit],
    text: str,
    sentences: list[Sentence],
    per_sentence: list[dict[str, list[Match]]],
    *,
    has_title: bool,
) -> Signal:
    """Fold a rule's hits into one signal with severity, score, evidence and entities."""
    firm = [h for h in hits if not h.hedged]
    speculative = not firm
    chosen = firm or hits
    votes = [h.direction for h in chosen if h.direction is not None]
    direction = max(set(votes), key=votes.count) if votes else rule.direction
    in_title = has_title and any(h.sentence == 0 for h in chosen)
    steps = int(in_title) + int(len(chosen) >= 3)
    severity = rule.severity.raised(steps)
    score = min(1.0, 0.55 + 0.15 * in_title + 0.1 * min(len(chosen) - 1, 3))
    if speculative:
        severity = rule.severity.raised(-1) if rule.severity.rank > 0 else rule.severity
        score *= 0.5
    evidence = tuple(
        _evidence(hit, text, sentences[hit.sentence], has_title=has_title)
        for hit in chosen[:MAX_EVIDENCE]
    )
    used = {h.sentence for h in chosen}
    return Signal(
        type=name,
        direction=direction,
        severity=severity,
        score=round(score, 3),
        rule=name,
        evidence=evidence,
        entities=_entities(per_sentence, used),
        speculative=speculative,
    )


def _evidence(hit: _Hit, text: str, sentence: Sentence, *, has_title: bool) -> Evidence:
    spans = tuple(
        Span(m.start - sentence.start, m.end - sentence.start, m.label)
        for m in sorted(set(hit.spans), key=lambda m: m.start)
    )
    return Evidence(
        sentence=text[sentence.start : sentence.end],
        spans=spans,
        in_title=has_title and hit.sentence == 0,
    )


def _entities(per_sentence: list[dict[str, list[Match]]], used: Iterable[int]) -> Entities:
    """Entities of the evidence sentences; a kind they lack is taken from the whole item."""

    def collect(indexes: Iterable[int]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {kind: [] for kind in _ENTITY_KINDS}
        for index in indexes:
            for label in per_sentence[index]:
                kind, _, canonical = label.partition(":")
                if kind in out and canonical not in out[kind]:
                    out[kind].append(canonical)
        return out

    found = collect(sorted(used))
    whole = collect(range(len(per_sentence)))
    for kind in _ENTITY_KINDS:
        if not found[kind]:
            found[kind] = whole[kind]
    return Entities(
        elements=tuple(found["element"]),
        products=tuple(found["product"]),
        countries=tuple(found["country"]),
    )
