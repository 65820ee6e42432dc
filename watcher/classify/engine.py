"""The rule engine: an item's sentences × the configured rules → explained signals.

`rules.fire` decides, sentence by sentence, whether a rule fires, which way and whether
it is only speculative (negation, hedging and direction are explained there). This
module lays the item out as sentences, finds every term in one pass, and folds a rule's
hits into one signal with severity and score (`severity`), evidence and entities.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import structlog

from watcher.classify.lexicon import (
    CASED_COUNTRIES,
    COUNTRIES,
    ELEMENTS,
    MINERALS,
    PRODUCTS,
    SYMBOLS,
)
from watcher.classify.lint import rule_warnings
from watcher.classify.matcher import Match, Occurrence, TermMatcher
from watcher.classify.rules import CompiledRule, Found, Hit
from watcher.classify.severity import Weight, grade, score
from watcher.classify.text import Sentence, split_sentences
from watcher.config import SignalRule, WatcherConfig
from watcher.domain.folding import fold, lower_folded
from watcher.domain.items import Direction, Entities, Evidence, Signal, Span

log = structlog.get_logger("watcher.classify")
_ENTITY_KINDS = ("element", "product", "country")
# (kind, table, matched case-sensitively): symbols and "US" are names only in capitals
_ENTITY_TABLES = (
    ("element", ELEMENTS, False),
    ("element", MINERALS, False),
    ("product", PRODUCTS, False),
    ("country", COUNTRIES, False),
    ("element", SYMBOLS, True),
    ("country", CASED_COUNTRIES, True),
)
# entity label -> (rank in the lexicon, kind, canonical name)
_ENTITY_LABELS = {
    f"{kind}:{name}": (rank, kind, name)
    for rank, (kind, name) in enumerate(
        (kind, name) for kind, table, _ in _ENTITY_TABLES for name in table
    )
}
_ENTITY_LABEL_SET = frozenset(_ENTITY_LABELS)
_CLOSING = " \"')]”’」』）"
MAX_EVIDENCE = 3


class Classifier:
    """Compiled concepts and rules; `classify` is pure and safe to share across tasks."""

    def __init__(self, concepts: Mapping[str, list[str]], rules: Mapping[str, SignalRule]) -> None:
        self.rules = dict(rules)
        self._compiled = [(name, CompiledRule(rule)) for name, rule in self.rules.items()]
        self._matcher = TermMatcher()
        for name, terms in concepts.items():
            for term in terms:
                self._matcher.add(term, name)
        for kind, table, cased in _ENTITY_TABLES:
            for canonical, terms in table.items():
                for term in terms:
                    self._matcher.add(term, f"{kind}:{canonical}", cased=cased)

    @classmethod
    def from_config(cls, config: WatcherConfig, *, warn: bool = True) -> Classifier:
        """The classifier for a validated configuration; logs `rule_warning` for rules
        that cannot do their job (see `lint`) unless `warn` is False."""
        if warn:
            for problem in rule_warnings(config):
                log.warning("rule_warning", problem=problem)
        return cls(config.concepts, config.signals)

    def classify(self, title: str, body: str) -> list[Signal]:
        """Every signal the rules find in the item, one per signal type, in rule order."""
        text, sentences = _layout(title, body)
        folded = fold(text)
        item = _Sentences(*self._matcher.bucket(folded, lower_folded(folded), sentences))
        entities = _EntityIndex(item)
        signals = []
        for name, compiled in self._compiled:
            if compiled.context and compiled.context.isdisjoint(item.labels):
                continue
            firsts, exclude, wanted = compiled.firsts, compiled.exclude, compiled.group_sets
            hits = []
            for index, keys in enumerate(item.keys):
                # the quick test of CompiledRule.may_fire, inlined: most sentences stop here
                if firsts.isdisjoint(keys) or not exclude.isdisjoint(keys):
                    continue
                for group in wanted:
                    if group <= keys:
                        break
                else:
                    continue
                hit = compiled.fire(index, item.found(index), keys, folded)
                if hit is not None:
                    hit.hedged = hit.hedged or _is_question(text, sentences[index])
                    hits.append(hit)
            if hits:
                signals.append(
                    _signal(name, compiled.rule, hits, text, sentences, entities, bool(title))
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


class _Sentences:
    """An item's matches bucketed by sentence: the labels of each, and matches on demand."""

    def __init__(self, occurrences: list[list[Occurrence]], keys: list[set[str]]) -> None:
        self.occurrences = occurrences
        self.keys = keys
        self.labels: set[str] = set().union(*keys)
        self._found: dict[int, Found] = {}

    def found(self, index: int) -> Found:
        """The matches of one sentence by concept (entity labels are left out)."""
        found = self._found.get(index)
        if found is None:
            found = {}
            for start, end, labels in self.occurrences[index]:
                for label in labels:
                    if label in _ENTITY_LABEL_SET:
                        continue
                    match = Match(start, end, label)
                    if label in found:
                        found[label].append(match)
                    else:
                        found[label] = [match]
            self._found[index] = found
        return found


class _EntityIndex:
    """The entities an item's sentences name, in lexicon order, worked out on demand."""

    def __init__(self, item: _Sentences) -> None:
        self._item = item
        self._whole: dict[str, list[str]] | None = None

    def _collect(self, labels: set[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {kind: [] for kind in _ENTITY_KINDS}
        for _, kind, name in sorted(_ENTITY_LABELS[label] for label in labels & _ENTITY_LABEL_SET):
            out[kind].append(name)
        return out

    def of(self, used: Iterable[int]) -> Entities:
        """Entities of the `used` sentences; a kind they lack is taken from the whole item."""
        found = self._collect(set().union(*(self._item.keys[i] for i in used)))
        if not all(found.values()):
            if self._whole is None:
                self._whole = self._collect(self._item.labels)
            for kind in _ENTITY_KINDS:
                found[kind] = found[kind] or self._whole[kind]
        return Entities(
            elements=tuple(found["element"]),
            products=tuple(found["product"]),
            countries=tuple(found["country"]),
        )


def _signal(
    name: str,
    rule: SignalRule,
    hits: list[Hit],
    text: str,
    sentences: list[Sentence],
    entities: _EntityIndex,
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
        entities=entities.of({h.sentence for h in chosen}),
        speculative=speculative,
    )


def _strongest(hits: list[Hit], direction: Direction, *, has_title: bool) -> list[Hit]:
    """At most `MAX_EVIDENCE` hits, in text order: the headline, then those agreeing with
    the signal's direction, then the tightest matches."""
    if len(hits) <= MAX_EVIDENCE:
        return hits
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
        for m in sorted(set(hit.spans))
    )
    return Evidence(
        sentence=text[sentence.start : sentence.end],
        spans=spans,
        in_title=has_title and hit.sentence == 0,
    )
