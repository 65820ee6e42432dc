"""The rule engine: an item's sentences × the configured rules → explained signals.

`rules.fire` decides, sentence by sentence, whether a rule fires, which way and whether
it is only speculative (negation, hedging and direction are explained there). This
module lays the item out as sentences, finds every term in one pass, and folds a rule's
hits into one signal with severity and score (`severity`), evidence and entities.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping

from watcher.classify.lexicon import (
    CASED_COUNTRIES,
    COUNTRIES,
    ELEMENTS,
    MINERALS,
    PRODUCTS,
    SYMBOLS,
)
from watcher.classify.matcher import Match, TermMatcher
from watcher.classify.rules import Found, Hit, fire
from watcher.classify.severity import Weight, grade, score
from watcher.classify.text import Sentence, fold, fold_lower, split_sentences
from watcher.config import SignalRule, WatcherConfig
from watcher.items import Direction, Entities, Evidence, Signal, Span

_ENTITY_KINDS = ("element", "product", "country")
_CLOSING = " \"')]”’」』）"
MAX_EVIDENCE = 3


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
        questions = [_is_question(text, s) for s in sentences]
        signals = []
        for name, rule in self.rules.items():
            if rule.context and not any(c in item_labels for c in rule.context):
                continue
            hits = []
            for index, found in enumerate(per_sentence):
                hit = fire(rule, index, found, folded, question=questions[index])
                if hit is not None:
                    hits.append(hit)
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


def _is_question(text: str, sentence: Sentence) -> bool:
    """True when the sentence ends with a question mark: a question states no fact."""
    return text[sentence.start : sentence.end].rstrip(_CLOSING).endswith(("?", "？"))


def _bucket(matches: list[Match], sentences: list[Sentence]) -> tuple[list[Found], set[str]]:
    """Matches grouped by sentence and by label, plus every label seen in the item."""
    starts = [s.start for s in sentences]
    per_sentence: list[Found] = [{} for _ in sentences]
    labels: set[str] = set()
    for match in matches:
        labels.add(match.label)
        index = bisect_right(starts, match.start) - 1
        if index >= 0 and match.end <= sentences[index].end:
            per_sentence[index].setdefault(match.label, []).append(match)
    return per_sentence, labels


def _signal(
    name: str,
    rule: SignalRule,
    hits: list[Hit],
    text: str,
    sentences: list[Sentence],
    per_sentence: list[Found],
    *,
    has_title: bool,
) -> Signal:
    """Fold a rule's hits into one signal with severity, score, evidence and entities."""
    firm = [h for h in hits if not h.hedged]
    speculative = not firm
    chosen = firm or hits
    direction = _vote([h.direction for h in chosen if h.direction is not None]) or rule.direction
    weight = Weight(
        in_title=has_title and any(h.sentence == 0 for h in chosen),
        sentences=sum(not (has_title and h.sentence == 0) for h in chosen),
        speculative=speculative,
    )
    evidence = tuple(
        _evidence(hit, text, sentences[hit.sentence], has_title=has_title)
        for hit in _strongest(chosen, direction, has_title=has_title)
    )
    return Signal(
        type=name,
        direction=direction,
        severity=grade(rule.severity, weight),
        score=score(weight),
        rule=name,
        evidence=evidence,
        entities=_entities(per_sentence, {h.sentence for h in chosen}),
        speculative=speculative,
    )


def _strongest(hits: list[Hit], direction: Direction, *, has_title: bool) -> list[Hit]:
    """At most `MAX_EVIDENCE` hits, in text order: the headline, then those agreeing with
    the signal's direction, then the tightest matches."""
    ranked = sorted(
        hits,
        key=lambda h: (
            not (has_title and h.sentence == 0),
            h.direction not in (direction, None),
            h.spread,
            h.sentence,
        ),
    )
    return sorted(ranked[:MAX_EVIDENCE], key=lambda h: h.sentence)


def _vote(votes: list[Direction]) -> Direction | None:
    """The direction most hits agree on; a tie goes to easing (an easing report names
    the tightening it undoes, so its other sentences often read as tightening)."""
    if not votes:
        return None
    easing = votes.count(Direction.EASING)
    return Direction.EASING if 2 * easing >= len(votes) else Direction.TIGHTENING


def _evidence(hit: Hit, text: str, sentence: Sentence, *, has_title: bool) -> Evidence:
    spans = tuple(
        Span(m.start - sentence.start, m.end - sentence.start, m.label)
        for m in sorted(set(hit.spans), key=lambda m: (m.start, m.end))
    )
    return Evidence(
        sentence=text[sentence.start : sentence.end],
        spans=spans,
        in_title=has_title and hit.sentence == 0,
    )


def _entities(per_sentence: list[Found], used: Iterable[int]) -> Entities:
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
