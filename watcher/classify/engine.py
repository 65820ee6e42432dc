"""The rule engine: an item's sentences × the configured rules → explained signals.

`rules.fire` decides, sentence by sentence, whether a rule fires, which way and whether
it is only speculative (negation, hedging and direction are explained there). This
module lays the item out as sentences, finds every term in one pass, and folds a rule's
hits into one signal: background sentences count only beside news (`background`), the
item's direction comes from its lead (`direction`), and severity and score from the
weight of the evidence (`severity`), with evidence, glosses and entities.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from datetime import date
from functools import partial

from watcher.classify.anaphora import ISSUED, quota_anaphors
from watcher.classify.background import (
    follows_earlier,
    is_dated_background,
    is_month_background,
    may_name_a_month,
    names_a_year,
    opens_with_bare_year,
    reference_year,
)
from watcher.classify.direction import (
    NEW_STORY,
    ONGOING,
    Doubt,
    Fired,
    after_easing,
    default_doubt,
    doubt_text,
    is_pluperfect,
    item_direction,
    lead_easing_cues,
    lead_end,
    pluperfect_dropped,
    undone_dropped,
)
from watcher.classify.easing import (
    ANCHOR,
    ANCHOR_TERMS,
    dates_earlier,
    easing_events,
    easing_guard,
)
from watcher.classify.figures import QUOTA, names_quota, quota_change, stated_change
from watcher.classify.lint import log_rule_warnings
from watcher.classify.matcher import Match, Occurrence, TermMatcher, count_cjk
from watcher.classify.rules import Clauses, CompiledRule, Found, Hit, distance, recounted
from watcher.classify.severity import Weight, grade, is_capped, score
from watcher.classify.text import Sentence, split_sentences
from watcher.classify.undirected import reports_new_measure, undirected_doubt
from watcher.compiled import mypyc_attr
from watcher.config import SignalRule, WatcherConfig
from watcher.config.schema import Concept, ConceptSpec, concept_terms
from watcher.domain.folding import fold, fold_lower, lower_folded
from watcher.domain.items import Direction, Entities, Evidence, Severity, Signal, Span
from watcher.domain.terms import forget_parsed_terms
from watcher.domain.vocabulary import (
    CASED_COUNTRIES,
    COUNTRIES,
    ELEMENTS,
    MINERALS,
    PRODUCTS,
    SYMBOLS,
)

_ENTITY_KINDS = ("element", "product", "country")
_KIND_INDEX = {kind: index for index, kind in enumerate(_ENTITY_KINDS)}
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
# entity label -> (rank in the lexicon, index of its kind in `_ENTITY_KINDS`, canonical name)
_ENTITY_INFO = {
    label: (rank, _KIND_INDEX[kind], name) for label, (rank, kind, name) in _ENTITY_LABELS.items()
}
_CLOSING = " \"')]”’」』）"
MAX_EVIDENCE = 3
_new_match = tuple.__new__
# Spans are built on the hot path: a frozen dataclass's __init__ sets each field through
# object.__setattr__; setting the slots directly once is the same value at half the cost
_new_object = object.__new__
_SET_SPAN = tuple(getattr(Span, field).__set__ for field in ("start", "end", "concept", "gloss"))


def _setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[object, object], None], ...]:
    """The slot setters of a frozen dataclass's fields, which must be exactly `names`."""
    fields = tuple(field.name for field in dataclasses.fields(cls))
    if fields != names:
        raise TypeError(f"{cls.__name__} has fields {fields}, the engine builds {names}")
    return tuple(getattr(cls, name).__set__ for name in names)


_SET_SIGNAL = _setters(
    Signal,
    (
        "type",
        "direction",
        "severity",
        "score",
        "rule",
        "evidence",
        "entities",
        "speculative",
        "direction_uncertain",
        "direction_doubt",
    ),
)
_SET_EVIDENCE = _setters(Evidence, ("sentence", "spans", "in_title"))
_SET_ENTITIES = _setters(Entities, ("elements", "products", "countries"))


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # pickled: watcher.compiled
class Classifier:
    """Compiled concepts and rules; `classify` is pure and safe to share across tasks."""

    def __init__(
        self,
        concepts: Mapping[str, ConceptSpec | Mapping[str, object]],
        rules: Mapping[str, SignalRule],
    ) -> None:
        self.rules = dict(rules)
        self._compiled = [(name, CompiledRule(rule)) for name, rule in self.rules.items()]
        # the concepts some rule looks at inside a sentence (not only as item context,
        # unless a `context_mask` may hide them)
        self._in_sentences = frozenset(
            concept
            for rule in self.rules.values()
            for field, names in rule.concepts().items()
            if field != "context" or rule.context_mask
            for concept in names
        )
        # every rule's easing-event concepts: an "after …" phrase behind one of them names
        # the earlier event (`direction.after_easing`)
        self._easing_events = frozenset(
            concept for rule in self.rules.values() for concept in rule.easing_events
        )
        self._matcher = TermMatcher()
        self._glosses: dict[str, str] = {}
        self._term_glosses: dict[str, dict[str, str]] = {}
        self._gloss_cache: dict[tuple[str, str], str] = {}
        # (base severity, weight) -> (severity, score): a handful of combinations recur
        self._grades: dict[tuple[Severity, Weight], tuple[Severity, float]] = {}
        for name, spec in concepts.items():
            if isinstance(spec, Mapping):  # not validated yet (a test's or a tool's rules)
                spec = Concept.model_validate(spec)
            for term in concept_terms(spec):
                self._matcher.add(term, name)
            if isinstance(spec, Concept):
                if spec.gloss:
                    self._glosses[name] = spec.gloss
                if spec.glosses:
                    self._term_glosses[name] = {
                        fold_lower(term): gloss for term, gloss in spec.glosses.items()
                    }
        # each rule's match concepts: a sentence naming one may hold evidence of easing
        # against the rule's tightening (see `easing`)
        self._match_concepts = {
            name: frozenset(c for group in rule.match for c in group)
            for name, rule in self.rules.items()
        }
        for term in ANCHOR_TERMS:  # the words of easing evidence (see `easing`)
            self._matcher.add(term, ANCHOR)
        for kind, table, cased in _ENTITY_TABLES:
            for canonical, terms in table.items():
                for term in terms:
                    self._matcher.add(term, f"{kind}:{canonical}", cased=cased)
        # the matcher holds every term's keys now, and its automata will (without them):
        # the parsed forms kept for another build would stay beside them for good
        forget_parsed_terms()

    @classmethod
    def from_config(cls, config: WatcherConfig, *, warn: bool = True) -> Classifier:
        """The classifier for a validated configuration; logs `rule_warning` for rules
        that cannot do their job (see `lint`) unless `warn` is False."""
        if warn:
            log_rule_warnings(config)
        return cls(config.concepts, config.signals)

    def gloss(self, concept: str, term: str = "") -> str:
        """The English gloss of `term` (as matched, any script) of `concept`: the term's own
        gloss, else the concept's, else ""."""
        key = (concept, term)
        found = self._gloss_cache.get(key)
        if found is None:
            own = self._term_glosses.get(concept, {}).get(fold_lower(term)) if term else None
            found = self._gloss_cache[key] = own or self._glosses.get(concept, "")
        return found

    def classify(self, title: str, body: str, published: date | None = None) -> list[Signal]:
        """Every signal the rules find in the item, one per signal type, in rule order.

        `published` (the item's date, when known) tells old events from news.
        """
        text, sentences = _layout(title, body)
        has_title = len(text) != len(body)
        asks = "?" in text or "？" in text
        had = "had" in text  # a past-perfect clause may recount an earlier state
        folded = fold(text)
        lowered = lower_folded(folded)
        item = _Sentences(*self._matcher.bucket(folded, lowered, sentences), self._in_sentences)
        # sentence -> dated background (see `background`), worked out at its first hit
        dated: dict[int, bool] = {}
        year: list[int | None] = []  # the item's year, worked out when a hit names a year
        if QUOTA in item.labels:
            _add_quota_change(item, folded, sentences, lambda: _year(year, text, published))
            if ISSUED in item.labels:
                _add_quota_anaphors(item, lowered, sentences)
        entities = _EntityIndex(item)
        clauses: dict[int, Clauses] = {}

        def clauses_of(index: int) -> Clauses:
            """Sentence `index`'s clauses, worked out once."""
            found = clauses.get(index)
            if found is None:
                sentence = sentences[index]
                found = clauses[index] = Clauses(
                    text, sentence.start, sentence.end, may_ask=asks, lowered=lowered
                )
            return found

        monthly: list[bool] = []  # whether the item may name a month, worked out once
        fired: list[Fired] = []
        body_eased: set[str] = set()  # undirected rules whose measure the body eases
        for name, compiled in self._compiled:
            if compiled.context and (
                compiled.context.isdisjoint(item.labels)
                or (
                    not compiled.context_mask.isdisjoint(item.labels)
                    and not compiled.in_context(item.keys, item.found)
                )
            ):
                continue
            firsts, exclude, wanted = compiled.firsts, compiled.exclude, compiled.group_sets
            labels = item.labels
            for group in wanted:
                if group <= labels:
                    break
            else:
                continue  # no sentence can hold what the item as a whole lacks
            mask = compiled.mask
            hits = []
            for index, keys in enumerate(item.keys):
                # the quick test of CompiledRule.may_fire, inlined: most sentences stop here
                if firsts.isdisjoint(keys):
                    continue
                for group in wanted:
                    if group <= keys:
                        break
                else:
                    continue
                if not exclude.isdisjoint(keys) and (
                    mask.isdisjoint(keys) or compiled.excluded(item.found(index), keys)
                ):
                    continue
                if not compiled.other_goods.isdisjoint(keys) and compiled.context.isdisjoint(keys):
                    continue
                sentence = sentences[index]
                hit = compiled.fire(index, item.found(index), keys, folded, clauses_of(index))
                if hit is not None:
                    hit.hedged = hit.hedged or (asks and _is_question(text, sentence))
                    if had and not hit.background:
                        hit.background = recounted(hit, folded, clauses_of(index))
                    if (
                        hit.direction is Direction.TIGHTENING
                        and not hit.background
                        and not self._easing_events.isdisjoint(keys)
                    ):
                        found = item.found(index)
                        hit.background = after_easing(
                            hit,
                            [m for c in self._easing_events & keys for m in found.get(c, ())],
                            folded,
                            partial(distance, folded),
                        )
                    if not hit.background:
                        if index not in dated:
                            dated[index] = (
                                names_a_year(text, sentence)
                                and (
                                    is_dated_background(
                                        text, sentence, _year(year, text, published)
                                    )
                                    or (
                                        not (has_title and index == 0)
                                        and opens_with_bare_year(text, sentence)
                                    )
                                )
                            ) or (
                                # a headline is the item's news, never its context: an
                                # old month there is a dateline or the story's subject
                                not (has_title and index == 0)
                                and (
                                    (
                                        published is not None
                                        and _months_named(monthly, text)
                                        and is_month_background(text, sentence, published)
                                    )
                                    or follows_earlier(text, sentence)
                                )
                            )
                        hit.background = dated[index]
                    hits.append(hit)
            news = [h for h in hits if not h.background]
            lead = lead_end(has_title)
            if hits and not news and compiled.lead_easing:
                # the lead eases what only background sentences name ("宜春锂云母企业陆续
                # 复产" over "此前，…停产整改"): the easing is the news, the background
                # what it undoes
                if any(
                    compiled.lead_eases(
                        keys, partial(item.found, index), folded, partial(clauses_of, index)
                    )
                    for index, keys in enumerate(item.keys[:lead])
                ):
                    fired.append((name, compiled.rule, hits, True))
                continue
            if news:
                eased = bool(compiled.lead_easing) and any(
                    compiled.lead_eases(
                        keys, partial(item.found, index), folded, partial(clauses_of, index)
                    )
                    for index, keys in enumerate(item.keys[:lead])
                )
                # a trigger that names no direction ("WTO ruling on China's export
                # quota"): a later sentence reporting the measure eased is the news
                if (
                    not eased
                    and all(h.direction is None for h in news)
                    and any(
                        compiled.body_eases(
                            keys, partial(item.found, index), folded, partial(clauses_of, index)
                        )
                        for index, keys in enumerate(item.keys[lead:], start=lead)
                    )
                ):
                    body_eased.add(name)
                fired.append((name, compiled.rule, news, eased))
        if had and len(fired) > 1:
            fired = pluperfect_dropped(fired, lambda hit: is_pluperfect(hit, text))
        if len(fired) > 1:  # one rule alone cannot be another's context
            fired = undone_dropped(
                fired,
                lead_end(has_title),
                lambda i: NEW_STORY.match(text, sentences[i].start) is not None,
            )
        # the lead's easing events, against which a rule's default tightening is a guess
        easing = lead_easing_cues(fired, lead_end(has_title)) if len(fired) > 1 else []
        # the easing guard reads only items holding a word of easing evidence (see `easing`)
        guard = (
            self._guard(item, text, folded, lowered, sentences, has_title)
            if fired and ANCHOR in item.labels
            else None
        )
        return [
            self._signal(
                name,
                rule,
                news,
                text,
                sentences,
                entities,
                has_title,
                eased or name in body_eased,
                easing,
                guard,
            )
            for name, rule, news, eased in fired
        ]

    def _guard(
        self,
        item: _Sentences,
        text: str,
        folded: str,
        lowered: str,
        sentences: list[Sentence],
        has_title: bool,
    ) -> Callable[[list[Hit], str], tuple[Direction, Doubt | None] | None]:
        """What the item's evidence of easing does to a tightening of a rule's hits (see
        `easing.easing_guard`), each sentence read at most once. For an item holding an
        `ANCHOR` word."""
        events: dict[int, list[Match]] = {}
        occurrences, keys = item.occurrences, item.keys

        def events_of(index: int) -> list[Match]:
            """Sentence `index`'s easing events (see `easing`), worked out once."""
            found = events.get(index)
            if found is None:
                found = events[index] = (
                    easing_events(
                        lowered,
                        *sentences[index],
                        [(s, e) for s, e, labels in occurrences[index] if ANCHOR in labels],
                    )
                    if ANCHOR in keys[index]
                    else []
                )
            return found

        anchored = [(i, k) for i, k in enumerate(keys) if ANCHOR in k]
        lead = lead_end(has_title)

        def earlier(i: int) -> bool:
            return dates_earlier(lowered, *sentences[i])

        measures: dict[int, bool] = {}

        def new_measure(i: int) -> bool:
            """Whether sentence `i` reports a new measure, worked out once per item."""
            found = measures.get(i)
            if found is None:
                found = measures[i] = reports_new_measure(
                    folded[sentences[i].start : sentences[i].end]
                )
            return found

        def ongoing(i: int) -> bool:
            return ONGOING.search(text, sentences[i].start, sentences[i].end) is not None

        def new_story(i: int) -> bool:
            return NEW_STORY.match(text, sentences[i].start) is not None

        def guard(hits: list[Hit], name: str) -> tuple[Direction, Doubt | None] | None:
            return easing_guard(
                hits,
                lead,
                anchored,
                events_of,
                earlier,
                new_measure,
                self._match_concepts[name],
                ongoing=ongoing,
                new_story=new_story,
            )

        return guard

    def _signal(
        self,
        name: str,
        rule: SignalRule,
        hits: list[Hit],
        text: str,
        sentences: list[Sentence],
        entities: _EntityIndex,
        has_title: bool,
        lead_eased: bool = False,
        lead_easing: list[Match] | None = None,
        guard: Callable[[list[Hit], str], tuple[Direction, Doubt | None] | None] | None = None,
    ) -> Signal:
        """Fold a rule's hits into one signal with severity, score, evidence and entities.
        `lead_easing`: the easing cues other rules' hits have in the lead (see
        `direction.default_doubt`); `guard`: what the item's evidence of easing does to a
        firm tightening read from these hits (see `easing`)."""
        firm = [h for h in hits if not h.hedged]
        speculative = not firm
        chosen = firm or hits
        lead = lead_end(has_title)
        found: Direction | None
        found, doubt = item_direction(
            chosen,
            lead,
            lead_eased=lead_eased,
            ongoing=lambda i: (
                ONGOING.search(text, sentences[i].start, sentences[i].end) is not None
            ),
        )
        if found is None and not speculative:
            # an undirected quota whose size the sentence states against the prior
            # period ("the full-year export quota … an increase of 2.7 percent from
            # last year"): the size change is the news (SIGNALS.md)
            for hit in chosen:
                if names_quota(text, hit.spans):
                    sentence = sentences[hit.sentence]
                    found = stated_change(text, sentence.start, sentence.end)
                    if found is not None:
                        break
        if lead_easing and found is None and doubt is None:
            doubt = default_doubt(found, rule.direction, lead_easing)
        if found is None and doubt is None and not speculative:
            doubt = undirected_doubt(chosen, rule.direction, text, sentences)
        direction = found or rule.direction
        if (
            guard is not None
            and direction is Direction.TIGHTENING
            and doubt is None
            and not speculative
        ):
            guarded = guard(chosen, name)
            if guarded is not None:
                direction, doubt = guarded
        # hits come one per sentence in text order: only the first can be the headline
        in_title = has_title and chosen[0].sentence == 0
        weight = Weight(
            in_title,
            len(chosen) - in_title,
            1,
            speculative,
            is_capped(direction, doubt is not None),
        )
        evidence = tuple(
            [
                self._evidence(hit, text, sentences[hit.sentence], has_title=has_title)
                for hit in _strongest(chosen, direction, has_title=has_title)
            ]
        )
        graded = self._grades.get((rule.severity, weight))
        if graded is None:
            graded = self._grades[(rule.severity, weight)] = (
                grade(rule.severity, weight),
                score(weight),
            )
        # `Signal(...)` without the frozen __init__ (one object.__setattr__ a field)
        signal: Signal = _new_object(Signal)
        set_type, set_direction, set_severity, set_score, set_rule, set_evidence = _SET_SIGNAL[:6]
        set_entities, set_speculative, set_uncertain, set_doubt = _SET_SIGNAL[6:]
        set_type(signal, name)
        set_direction(signal, direction)
        set_severity(signal, graded[0])
        set_score(signal, graded[1])
        set_rule(signal, name)
        set_evidence(signal, evidence)
        set_entities(signal, entities.of({h.sentence for h in chosen}))
        set_speculative(signal, speculative)
        set_uncertain(signal, doubt is not None)
        set_doubt(signal, "" if doubt is None else doubt_text(doubt, direction, text))
        return signal

    def _evidence(self, hit: Hit, text: str, sentence: Sentence, *, has_title: bool) -> Evidence:
        base = sentence.start
        spans = []
        set_start, set_end, set_concept, set_gloss = _SET_SPAN
        ascii_text = text.isascii()
        for start, end, label in _innermost(hit.spans):
            # only a term in another script gets a gloss; most terms are ASCII
            if ascii_text:
                gloss = ""
            else:
                term = text[start:end]
                gloss = "" if term.isascii() or not count_cjk(term) else self.gloss(label, term)
            span: Span = _new_object(Span)  # `_span`, inlined
            set_start(span, start - base)
            set_end(span, end - base)
            set_concept(span, label)
            set_gloss(span, gloss)
            spans.append(span)
        evidence: Evidence = _new_object(Evidence)  # `Evidence(...)`, as for `Signal`
        set_sentence, set_spans, set_in_title = _SET_EVIDENCE
        set_sentence(evidence, text[sentence.start : sentence.end])
        set_spans(evidence, tuple(spans))
        set_in_title(evidence, has_title and hit.sentence == 0)
        return evidence


def _add_quota_change(
    item: _Sentences, folded: str, sentences: list[Sentence], year: Callable[[], int | None]
) -> None:
    """Add the change an item's quota figures show against the prior period (see
    `figures`) to the sentence of the current figure, as the change concept it reads as."""
    change = quota_change(folded, sentences, item.keys, year, item.labels)
    if change is not None:
        item.occurrences[change.sentence].append((change.start, change.end, (change.concept,)))
        item.keys[change.sentence].add(change.concept)
        item.labels.add(change.concept)


def _add_quota_anaphors(item: _Sentences, lowered: str, sentences: list[Sentence]) -> None:
    """Read a later sentence's "the release", "this allocation" as a mention of the
    item's quota (see `anaphora`)."""
    for index, start, end in quota_anaphors(lowered, sentences, item.keys, QUOTA):
        item.occurrences[index].append((start, end, (QUOTA,)))
        item.keys[index].add(QUOTA)


def _year(cache: list[int | None], text: str, published: date | None) -> int | None:
    """The item's reference year (see `background`), computed once per item."""
    if not cache:
        cache.append(reference_year(text, published))
    return cache[0]


def _months_named(cache: list[bool], text: str) -> bool:
    """Whether the item may name a month (see `background`), computed once per item."""
    if not cache:
        cache.append(may_name_a_month(text))
    return cache[0]


def _innermost(spans: list[Match]) -> list[Match]:
    """The spans in text order, less those around another span of their concept (an
    `A ... B` cue around its verb shows as the verb)."""
    unique = sorted(set(spans))
    if len(unique) < 2:
        return unique
    concepts = [m[2] for m in unique]
    if len(set(concepts)) == len(unique):
        return unique  # no concept twice: nothing can be around its own kind
    twice = {concept for concept in concepts if concepts.count(concept) > 1}
    return [
        m
        for m in unique
        if m[2] not in twice
        or not any(o != m and o[2] == m[2] and m[0] <= o[0] and o[1] <= m[1] for o in unique)
    ]


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

    def __init__(
        self, occurrences: list[list[Occurrence]], keys: list[set[str]], used: frozenset[str]
    ) -> None:
        self.occurrences = occurrences
        self.keys = keys
        self.labels: set[str] = set().union(*keys)
        self._used = used
        self._found: dict[int, Found] = {}

    def found(self, index: int) -> Found:
        """The matches of one sentence by concept, for the concepts rules look at in a
        sentence (not entities, `...` sides or concepts used only as item context)."""
        found = self._found.get(index)
        if found is None:
            found = {}
            used = self._used
            new_match = _new_match
            get = found.get
            for start, end, labels in self.occurrences[index]:
                for label in labels:
                    if label in used:
                        matches = get(label)
                        if matches is None:
                            found[label] = [new_match(Match, (start, end, label))]
                        else:
                            matches.append(new_match(Match, (start, end, label)))
            self._found[index] = found
        return found


class _EntityIndex:
    """The entities an item's sentences name, in lexicon order, worked out on demand."""

    def __init__(self, item: _Sentences) -> None:
        self._item = item
        self._whole: tuple[list[str], list[str], list[str]] | None = None

    @staticmethod
    def _collect(labels: set[str]) -> tuple[list[str], list[str], list[str]]:
        """The names of the entity `labels` by kind (as `_ENTITY_KINDS`), in lexicon order."""
        out: tuple[list[str], list[str], list[str]] = ([], [], [])
        # the few entity labels of `labels` (the intersection walks the smaller set), by rank
        for _, kind, name in sorted([_ENTITY_INFO[label] for label in labels & _ENTITY_LABEL_SET]):
            out[kind].append(name)
        return out

    def of(self, used: Collection[int]) -> Entities:
        """Entities of the `used` sentences; a kind they lack is taken from the whole item."""
        keys = self._item.keys
        # one sentence (the usual case): its own label set, read, not copied
        labels = keys[next(iter(used))] if len(used) == 1 else set().union(*[keys[i] for i in used])
        elements, products, countries = self._collect(labels)
        if not (elements and products and countries):
            whole = self._whole
            if whole is None:
                whole = self._whole = self._collect(self._item.labels)
            elements = elements or whole[0]
            products = products or whole[1]
            countries = countries or whole[2]
        entities: Entities = _new_object(Entities)  # `Entities(...)`, as for `Signal`
        set_elements, set_products, set_countries = _SET_ENTITIES
        set_elements(entities, tuple(elements))
        set_products(entities, tuple(products))
        set_countries(entities, tuple(countries))
        return entities


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
