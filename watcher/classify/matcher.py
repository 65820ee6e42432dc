"""Find every term of every concept in one pass over the text.

Latin terms respect word boundaries ("Dy" is not inside "Dynamic"); Chinese terms match
anywhere. A `*` stands for an ending of at most `MAX_ENDING` letters, `MAX_LONG_ENDING`
after a stem of `LONG_STEM` letters or more (-s, -ed, -ing, -ions; -ement after
"requir"): a longer run makes another word ("production cap*" is not "production
capacity", "ceas*" is not "ceasefire"), so a term that needs one spells it out.
Literal terms go into one Aho–Corasick automaton (a second one for
case-sensitive terms), so the cost is one scan of the text however many terms there
are; a regular expression costs a scan of its own. The term syntax is in `terms`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import ahocorasick

from watcher.domain.terms import (
    GAP_WORDS,
    MAX_EXPANSIONS,
    Gapped,
    Literal,
    Regex,
    TermError,
    expand_braces,
    parse_term,
)

__all__ = [
    "LONG_STEM",
    "MAX_ENDING",
    "MAX_EXPANSIONS",
    "MAX_LONG_ENDING",
    "Match",
    "Occurrence",
    "TermError",
    "TermMatcher",
    "count_cjk",
    "expand_braces",
    "is_cjk",
    "is_side",
    "parse_term",
]

MAX_ENDING = 4
MAX_LONG_ENDING = 6
LONG_STEM = 6
_WORD_RUN = re.compile(r"[^\W_\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]*")
# what ends a clause for an `A ... B` term (the folded text has no dashes left)
_CLAUSE_MARK = re.compile(r"[,:](?=\s|[\u4e00-\u9fff])|[;，；：]")
# `_scan_into`'s flag of an ASCII byte (non-ASCII characters are encoded as "?")
_FLAGS = bytes(
    2 if chr(byte) == "?" else int(chr(byte).isalnum()) if byte < 128 else 0 for byte in range(256)
)
_CJK_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


class Match(NamedTuple):
    """One occurrence of a term: [start, end) in the text and the label it belongs to."""

    start: int
    end: int
    label: str


def is_cjk(char: str) -> bool:
    """True for Chinese/Japanese/Korean ideographs and CJK punctuation."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x3000 <= code <= 0x303F
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
    )


def count_cjk(text: str) -> int:
    """How many CJK characters `text` holds (0 at once for ASCII)."""
    return 0 if text.isascii() else len(_CJK_CHAR.findall(text))


def is_side(label: str) -> bool:
    """True for the internal label of one side of an `A ... B` term (not a concept)."""
    return isinstance(label, str) and label.startswith("\x00")


def _is_word_char(char: str) -> bool:
    return char.isalnum() and (char < "\u3000" or not is_cjk(char))


Occurrence = tuple[int, int, tuple[str, ...]]
"""[start, end) of a matched phrase and every label whose term it is."""

Span = tuple[int, int]  # [start, end) of a sentence, like `text.Sentence`
# an automaton's value for a key: its length, whether a word boundary is due before and
# after it, its labels, and for `*` keys (labels of `*` terms, longest ending) or None
_Value = tuple[int, bool, bool, tuple[str, ...], tuple[tuple[str, ...], int] | None]


class TermMatcher:
    """Compiled terms of many labels; `find` returns every match in document order.

    Literal terms go into one automaton over the lower-cased text; case-sensitive terms
    ("US", "Dy") into a second one over the text as written, where a two-letter symbol
    rarely even starts a candidate.
    """

    def __init__(self) -> None:
        # per case sensitivity: key -> (labels of exact terms, labels of `*` terms); tuples
        # of strings, which the garbage collector stops tracking (a rule set holds thousands)
        self._keys: dict[bool, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
            False: {},
            True: {},
        }
        self._automata: (
            list[tuple[bool, ahocorasick.Automaton, ahocorasick.Automaton | None]] | None
        ) = None
        self._regexes: list[tuple[Regex, str]] = []
        # `A ... B` terms: (label, label of the A side, label of the B side); the sides
        # are matched as literals under those internal labels and joined per sentence
        self._gaps: list[tuple[str, str, str]] = []
        self._sides: set[str] = set()
        self._by_first: dict[str, list[tuple[str, str, str]]] = {}

    def add(self, term: str, label: str, *, cased: bool = False) -> None:
        """Add `term` under `label`; raise `TermError` if it cannot match anything."""
        for form in parse_term(term, cased=cased):
            if isinstance(form, Regex):
                self._regexes.append((form, label))
            elif isinstance(form, Gapped):
                first, second = f"\x00{len(self._gaps)}<", f"\x00{len(self._gaps)}>"
                self._gaps.append((label, first, second))
                self._by_first[first] = [(label, first, second)]
                self._sides.update((first, second))
                for literal in form.first:
                    self._add_literal(literal, first)
                for literal in form.second:
                    self._add_literal(literal, second)
            else:
                self._add_literal(form, label)
        self._automata = None

    def _add_literal(self, form: Literal, label: str) -> None:
        keys = self._keys[form.cased]
        exact, wild = keys.get(form.key, ((), ()))
        if form.wildcard and label not in wild:
            keys[form.key] = (exact, (*wild, label))
        elif not form.wildcard and label not in exact:
            keys[form.key] = ((*exact, label), wild)

    def _build(self) -> list[tuple[bool, ahocorasick.Automaton, ahocorasick.Automaton | None]]:
        """Per case sensitivity: the automaton of every key, and one of the ASCII keys only.

        An ASCII text can match no other key, and the smaller automaton scans it about
        twice as fast: the automaton looks a character up among a node's children one by
        one, and the root of the whole set has a child for each of some 300 first
        characters (most of them ideographs) where the ASCII keys' root has 30.

        The list is published whole, once built: a thread that reads `_automata` while
        another builds it sees either None (and builds its own) or every automaton, never
        a half-filled list that would match nothing.
        """
        automata: list[tuple[bool, ahocorasick.Automaton, ahocorasick.Automaton | None]] = []
        for cased, keys in self._keys.items():
            if not keys:
                continue
            # equal values (and equal label tuples inside them) as one object each: the scan
            # then touches a few hundred objects, not one per key, and they stay in cache
            shared = _Shared()
            values = {key: shared(self._value(key, e, w)) for key, (e, w) in keys.items()}
            # children are looked up in the order they were added: common characters first
            counts = Counter(char for key in values for char in key)
            rank = {char: n for n, (char, _) in enumerate(counts.most_common())}
            ordered = sorted(values, key=lambda key: [rank[char] for char in key])
            every = _automaton((key, values[key]) for key in ordered)
            ascii_keys = [key for key in ordered if key.isascii()]
            if len(ascii_keys) == len(ordered):
                ascii_only: ahocorasick.Automaton | None = every
            else:  # None: no key can match an ASCII text
                ascii_only = _automaton((k, values[k]) for k in ascii_keys) if ascii_keys else None
            automata.append((cased, every, ascii_only))
        self._automata = automata
        return automata

    @staticmethod
    def _value(key: str, exact: tuple[str, ...], wild: tuple[str, ...]) -> _Value:
        """What the automaton yields for `key` (see `_scan_into`)."""
        latin = _CJK_CHAR.search(key) is None  # the characters `is_cjk` accepts
        return (
            len(key),
            latin and _is_word_char(key[0]),
            latin and (bool(wild) or _is_word_char(key[-1])),
            exact + wild,
            # the labels a longer word keeps, and how much longer it may be
            (wild, MAX_LONG_ENDING if len(key.split()[-1]) >= LONG_STEM else MAX_ENDING)
            if wild
            else None,
        )

    def bucket(
        self, folded: str, lowered: str, sentences: Sequence[Span]
    ) -> tuple[list[list[Occurrence]], list[set[str]]]:
        """The matched phrases inside each sentence, and the labels each sentence holds.

        The text is given as `fold(text)` and its lower-cased form; `sentences` are
        non-overlapping and sorted. A phrase that runs over a sentence's end is dropped.
        """
        found: list[list[Occurrence]] = [[] for _ in sentences]
        keys: list[set[str]] = [set() for _ in sentences]
        if sentences:
            automata = self._automata if self._automata is not None else self._build()
            # the two texts have the same length and the same word characters, so one
            # table of flags serves both (see `_scan_into`)
            flags = _flags(lowered)
            ascii_text = lowered.isascii()
            for cased, every, ascii_only in automata:
                automaton = ascii_only if ascii_text else every
                if automaton is not None:
                    text = folded if cased else lowered
                    _scan_into(automaton, text, flags, sentences, found, keys)
            if self._regexes:
                self._bucket_regexes(folded, lowered, sentences, found, keys)
            if self._gaps:
                sides = self._sides
                for index, labels in enumerate(keys):
                    if not sides.isdisjoint(labels):
                        self._join_gaps(folded, found[index], labels)
        return found, keys

    def _join_gaps(self, folded: str, found: list[Occurrence], labels: set[str]) -> None:
        """Add the matches of `A ... B` terms in one sentence (A, then B within `GAP_WORDS`
        words in the same clause) and take the sides' labels out of `labels`; the side
        matches stay in `found` under their internal labels (`is_side` tells them)."""
        here = self._sides.intersection(labels)
        labels -= here
        by_first = self._by_first
        present = [
            gap for side in here if side in by_first for gap in by_first[side] if gap[2] in here
        ]
        if not present:
            return
        sides: dict[str, list[tuple[int, int]]] = {}
        for start, end, names in found:
            for name in names:
                if name in self._sides:
                    sides.setdefault(name, []).append((start, end))
        added = False
        for label, first, second in present:
            for a_start, a_end in sides[first]:
                for b_start, b_end in sides[second]:
                    between = folded[a_end:b_start]
                    if (
                        b_start >= a_end
                        and between.count(" ") + count_cjk(between) // 2 <= GAP_WORDS + 1
                        and _CLAUSE_MARK.search(between) is None
                    ):
                        found.append((a_start, b_end, (label,)))
                        labels.add(label)
                        added = True
                        break
        if added:
            found.sort(key=lambda o: (o[1], o[0]))

    def _bucket_regexes(
        self,
        folded: str,
        lowered: str,
        sentences: Sequence[Span],
        found: list[list[Occurrence]],
        keys: list[set[str]],
    ) -> None:
        starts = [s[0] for s in sentences]
        touched: set[int] = set()
        for regex, label in self._regexes:
            text = lowered if regex.on_lowered else folded
            for match in regex.pattern.finditer(text):
                index = bisect_right(starts, match.start()) - 1
                if index >= 0 and match.end() <= sentences[index][1]:
                    found[index].append((match.start(), match.end(), (label,)))
                    keys[index].add(label)
                    touched.add(index)
        for index in touched:
            found[index].sort(key=lambda o: (o[1], o[0]))

    def occurrences(self, folded: str, lowered: str) -> list[Occurrence]:
        """Every matched phrase, sorted by position, each with all its labels."""
        found, _ = self.bucket(folded, lowered, [(0, len(lowered))])
        out = []
        for start, end, labels in sorted(found[0]):
            named = tuple(label for label in labels if not is_side(label))
            if named:
                out.append((start, end, named))
        return out

    def find(self, folded: str, lowered: str) -> list[Match]:
        """Every match in the text, one per label, in document order."""
        return [
            Match(start, end, label)
            for start, end, labels in self.occurrences(folded, lowered)
            for label in labels
        ]


class _Shared:
    """Hands out one object for equal automaton values, and for equal label tuples in them."""

    def __init__(self) -> None:
        self._labels: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._wild: dict[tuple[tuple[str, ...], int], tuple[tuple[str, ...], int]] = {}
        self._values: dict[_Value, _Value] = {}

    def __call__(self, value: _Value) -> _Value:
        """`value`, or the equal value handed out before, its tuples shared likewise."""
        length, left_bound, right_bound, labels, wild = value
        labels = self._labels.setdefault(labels, labels)
        if wild is not None:
            wild_labels = self._labels.setdefault(wild[0], wild[0])
            wild = self._wild.setdefault((wild_labels, wild[1]), (wild_labels, wild[1]))
        value = (length, left_bound, right_bound, labels, wild)
        return self._values.setdefault(value, value)


def _automaton(items: Iterable[tuple[str, _Value]]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for key, value in items:
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


def _flags(text: str) -> bytes:
    """Per character of `text`: 1 a word character, 2 a character to look at (not ASCII,
    or "?"), 0 else; one more 0 stands for the text's end (and, as index -1, for its start).

    `fold(text)` and its lower-cased form get the same flags: lower-casing keeps an
    ASCII character ASCII and a letter or digit one, and a character flagged 2 is looked
    at in the text being scanned.
    """
    return text.encode("ascii", "replace").translate(_FLAGS) + b"\0"


def _scan_into(
    automaton: ahocorasick.Automaton,
    text: str,
    flags: bytes,
    sentences: Sequence[Span],
    found: list[list[Occurrence]],
    keys: list[set[str]],
) -> None:
    """Add the automaton's matches that respect word boundaries to their sentences
    (`flags` is `_flags(text)`)."""
    size = len(text)
    count = len(sentences)
    index = 0
    sentence_start, sentence_end = sentences[0]
    next_start = sentences[1][0] if count > 1 else size + 1
    add, update = found[0].append, keys[0].update
    for last, (length, left_bound, right_bound, labels, wild) in automaton.iter(text):
        start = last + 1 - length
        if left_bound:
            flag = flags[start - 1]
            if flag and (flag == 1 or _is_word_char(text[start - 1])):
                continue
        stop = last + 1
        if right_bound:
            flag = flags[stop]
            if flag and (flag == 1 or _is_word_char(text[stop])):
                if wild is None:
                    continue
                labels, ending = wild  # only `*` terms run on into the rest of the word
                end = stop
                stop = _WORD_RUN.match(text, end).end()  # type: ignore[union-attr]  # `*` matches empty
                if stop - end > ending:
                    continue  # another word: `cap*` is not "capacity", `ceas*` not "ceasefire"
        if last >= next_start:
            while last >= next_start:
                index += 1
                next_start = sentences[index + 1][0] if index + 1 < count else size + 1
            sentence_start, sentence_end = sentences[index]
            add, update = found[index].append, keys[index].update
        if sentence_start <= start and stop <= sentence_end:
            add((start, stop, labels))
            update(labels)
