"""Find every term of every concept in one pass over the text.

Latin terms respect word boundaries ("Dy" is not inside "Dynamic"); Chinese terms match
anywhere. A `*` stands for an ending of at most `MAX_ENDING` letters, `MAX_LONG_ENDING`
after a stem of `LONG_STEM` letters or more (-s, -ed, -ing, -ions; -ement after
"requir"): a longer run makes another word ("production cap*" is not "production
capacity", "ceas*" is not "ceasefire"), so a term that needs one spells it out.
Literal terms go into Aho–Corasick automata (the ASCII keys in one, the others in
another, and the same again for case-sensitive terms; see `TermMatcher._build`), so the
cost is one scan of the text however many terms there are; a regular expression costs
a scan of its own. The term syntax is in `terms`.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import NamedTuple

import ahocorasick

from watcher.classify.lists import is_list_comma
from watcher.compiled import mypyc_attr
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
# a key's leading, trailing and inner runs of ASCII characters (see `_OtherKeys`)
_ASCII_START = re.compile(r"[\x00-\x7f]*")
_ASCII_END = re.compile(r"[\x00-\x7f]*\Z")
_ASCII_INSIDE = re.compile(r"(?<=[^\x00-\x7f])[\x00-\x7f]+(?=[^\x00-\x7f])")
_JOIN = 8  # ASCII characters between two runs of other ones that `_OtherKeys` scans over
_CJK_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _no_clause_mark(folded: str, start: int, end: int) -> bool:
    """True when no clause ends in folded[start:end] (the gap of an `A ... B` term): no
    clause mark there but commas joining a list of minerals ("bans gallium, germanium
    exports", `lists.is_list_comma`)."""
    mark = _CLAUSE_MARK.search(folded, start, end)
    while mark is not None:
        if not is_list_comma(folded, mark.start(), 0, len(folded)):
            return False
        mark = _CLAUSE_MARK.search(folded, mark.end(), end)
    return True


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
# a `_Value` handed out by `_Shared`, typed as an object so that compiled code (mypyc) keeps
# the one tuple object rather than unpacking and rebuilding it (watcher.compiled)
_SharedValue = object
_Hit = tuple[int, _Value]  # what an automaton yields: the key's last index, its value
# per case sensitivity: whether it is the cased one, the automaton of the ASCII keys and
# the other keys (None for none)
_Automata = list[tuple[bool, ahocorasick.Automaton | None, "_OtherKeys | None"]]
# per case sensitivity: key -> (labels of exact terms, labels of `*` terms); the pair typed
# as a tuple of any length, which compiled code (mypyc) keeps as the one object shared by
# most keys rather than rebuilding it per key (watcher.compiled)
_Keys = dict[bool, dict[str, tuple[tuple[str, ...], ...]]]
# one build at a time (of any matcher): a build drops the keys it read (`TermMatcher._build`)
_BUILDING = threading.Lock()


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # pickled: watcher.compiled
class TermMatcher:
    """Compiled terms of many labels; `find` returns every match in document order.

    Literal terms go into one automaton over the lower-cased text; case-sensitive terms
    ("US", "Dy") into a second one over the text as written, where a two-letter symbol
    rarely even starts a candidate.
    """

    def __init__(self) -> None:
        # per case sensitivity: key -> (labels of exact terms, labels of `*` terms); tuples
        # of strings, which the garbage collector stops tracking (a rule set holds thousands).
        # None once the automata are built: they hold every key (`_restore_keys`)
        self._keys: _Keys | None = {False: {}, True: {}}
        self._automata: _Automata | None = None
        self._regexes: list[tuple[Regex, str]] = []
        # `A ... B` terms: (label, label of the A side, label of the B side); the sides
        # are matched as literals under those internal labels and joined per sentence
        self._gaps: list[tuple[str, str, str]] = []
        self._sides: set[str] = set()
        self._by_first: dict[str, list[tuple[str, str, str]]] = {}

    def add(self, term: str, label: str, *, cased: bool = False) -> None:
        """Add `term` under `label`; raise `TermError` if it cannot match anything."""
        forms = parse_term(term, cased=cased)
        if self._keys is None:
            self._keys = self._restore_keys()
        if all(isinstance(form, Literal) for form in forms):  # nearly every term: one batch
            self._add_literals(forms, label)  # type: ignore[arg-type]
            self._automata = None
            return
        for form in forms:
            if isinstance(form, Regex):
                self._regexes.append((form, label))
            elif isinstance(form, Gapped):
                first, second = f"\x00{len(self._gaps)}<", f"\x00{len(self._gaps)}>"
                self._gaps.append((label, first, second))
                self._by_first[first] = [(label, first, second)]
                self._sides.update((first, second))
                self._add_literals(form.first, first)
                self._add_literals(form.second, second)
            else:
                self._add_literals((form,), label)
        self._automata = None

    def _add_literals(self, forms: Iterable[Literal], label: str) -> None:
        """File each literal's key under `label` (once: an exact key, or a `*` one)."""
        tables = self._keys
        assert tables is not None  # restored by `add`
        alone = (label,)  # one tuple for every key new to the table
        # annotated, so compiled code keeps these two pairs as objects, not one per key
        new_exact: tuple[tuple[str, ...], ...] = (alone, ())
        new_wild: tuple[tuple[str, ...], ...] = ((), alone)
        for form in forms:
            keys = tables[form.cased]
            key = form.key
            labels = keys.get(key)
            if labels is None:  # most keys
                keys[key] = new_wild if form.wildcard else new_exact
                continue
            exact, wild = labels
            if form.wildcard:
                if label not in wild:
                    keys[key] = (exact, (*wild, label))
            elif label not in exact:
                keys[key] = ((*exact, label), wild)

    def _build(self) -> _Automata:
        """Per case sensitivity: an automaton of the ASCII keys, and one of the other keys.

        Each key is held once: the ASCII keys are nearly all of them (93k of the 96k trie
        nodes of the default rules, the other keys being Chinese). An ASCII text can match
        no other key and is scanned by the first automaton alone, which is what makes the
        split fast as well as small: the automaton looks a character up among a node's
        children one by one, and the root of the ASCII keys has a child for each of some
        30 first characters where that of every key has some 350 (most of them
        ideographs). Another text is scanned by the first automaton too, and by the second
        only around its non-ASCII characters (see `_OtherKeys`); the two automata's
        matches are merged into the order one automaton of every key would give.

        The list is published whole, once built: a thread that reads `_automata` while
        another builds it sees either None (and waits for that build) or every automaton,
        never a half-filled list that would match nothing.

        The automata hold every key and its labels, so the table of keys is dropped once
        they are built (some 22k strings and their dict, 3 MB with the default rules) and
        restored from them if a term is added later (`_restore_keys`).
        """
        with _BUILDING:
            if self._automata is not None:  # built by another thread meanwhile
                return self._automata
            assert self._keys is not None  # dropped only once `_automata` is set
            automata = self._build_from(self._keys)
            self._automata = automata
            self._keys = None
        return automata

    def _build_from(self, table: _Keys) -> _Automata:
        automata: _Automata = []
        for cased, keys in table.items():
            if not keys:
                continue
            # equal values (and equal label tuples inside them) as one object each: the scan
            # then touches a few hundred objects, not one per key, and they stay in cache
            shared = _Shared()
            values = {key: shared(self._value(key, e, w)) for key, (e, w) in keys.items()}
            ascii_keys = [key for key in values if key.isascii()]
            other_keys = [key for key in values if not key.isascii()]
            automata.append(
                (
                    cased,
                    _automaton(ascii_keys, values) if ascii_keys else None,
                    _OtherKeys(other_keys, values) if other_keys else None,
                )
            )
        return automata

    def _restore_keys(self) -> _Keys:
        """The table of keys the built automata were made from (`_build` dropped it)."""
        automata = self._automata
        assert automata is not None  # the keys are dropped only once the automata are built
        table: _Keys = {False: {}, True: {}}
        for cased, ascii_keys, other_keys in automata:
            keys = table[cased]
            other = other_keys.automaton if other_keys is not None else None
            for automaton in (ascii_keys, other):
                if automaton is None:
                    continue
                for key, (_, _, _, labels, wild) in automaton.items():
                    wild_labels = wild[0] if wild is not None else ()
                    keys[key] = (labels[: len(labels) - len(wild_labels)], wild_labels)
        return table

    @staticmethod
    def _value(key: str, exact: tuple[str, ...], wild: tuple[str, ...]) -> _Value:
        """What the automaton yields for `key` (see `_scan_into`)."""
        if key.isascii():  # no CJK character, and a word character is a letter or digit
            left, right = key[0].isalnum(), bool(wild) or key[-1].isalnum()
        else:
            latin = _CJK_CHAR.search(key) is None  # the characters `is_cjk` accepts
            left = latin and _is_word_char(key[0])
            right = latin and (bool(wild) or _is_word_char(key[-1]))
        return (
            len(key),
            left,
            right,
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
            for cased, ascii_keys, other_keys in automata:
                text = folded if cased else lowered
                other = [] if other_keys is None or text.isascii() else other_keys.hits(text)
                matches: Iterable[_Hit] = other
                if ascii_keys is not None:
                    if other:
                        matches = _merged(other, list(ascii_keys.iter(text)))
                    else:
                        matches = ascii_keys.iter(text)
                if matches:
                    _scan_into(matches, text, flags, sentences, found, keys)
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
                        and _no_clause_mark(folded, a_end, b_start)
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
        self._values: dict[_Value, _SharedValue] = {}

    def __call__(self, value: _Value) -> _SharedValue:
        """`value`, or the equal value handed out before, its tuples shared likewise."""
        length, left_bound, right_bound, labels, wild = value
        labels = self._labels.setdefault(labels, labels)
        if wild is not None:
            wild_labels = self._labels.setdefault(wild[0], wild[0])
            wild = self._wild.setdefault((wild_labels, wild[1]), (wild_labels, wild[1]))
        value = (length, left_bound, right_bound, labels, wild)
        return self._values.setdefault(value, value)


def _automaton(keys: list[str], values: Mapping[str, _SharedValue]) -> ahocorasick.Automaton:
    """The automaton of `keys`, each yielding its value; a node's children are looked up
    in the order they were added, so the keys go in with common characters first."""
    automaton = ahocorasick.Automaton()
    for key in _common_first(keys):
        automaton.add_word(key, values[key])
    automaton.make_automaton()
    return automaton


def _common_first(keys: list[str]) -> list[str]:
    """`keys` in the order of their characters' ranks, the most common character first:
    sorted as lists of ranks (`[rank[char] for char in key]`) would sort them.

    Each key is sorted as its ranks spelled as one string (rank n as the code point n),
    which compares as the list of ranks does, shorter first on a common start; made by
    `str.translate` in C, where building 27,000 lists of ranks (the default rules' keys)
    took most of a build's 0.13 s. The ranks are counted over the joined keys, which
    meet the characters in the same order as key by key (ties keep first-seen order).
    """
    counts = Counter("".join(keys))
    ranks = {ord(char): n for n, (char, _) in enumerate(counts.most_common())}
    return sorted(keys, key=lambda key: key.translate(ranks))


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # pickled: watcher.compiled
class _OtherKeys:
    """The keys with a character outside ASCII, scanned for only around such characters.

    Such a key matches text that holds its non-ASCII characters: a run of the text's
    non-ASCII characters, or several runs apart by at most as many ASCII characters as
    a key holds between two of its own, widened by the most ASCII characters a key
    starts or ends with. Only those windows are scanned, so English text with a stray
    "é" or "€" costs a few characters of this automaton, not its whole length: its root
    has a child for each of some 330 first characters, and a character that is none of
    them (every space) is compared with each one.
    """

    __slots__ = ("_after", "_automaton", "_before", "_runs")

    def __init__(self, keys: list[str], values: Mapping[str, _SharedValue]) -> None:
        self._automaton = _automaton(keys, values)
        self._before = max(len(_ASCII_START.match(key)[0]) for key in keys)  # type: ignore[index]
        self._after = max(len(_ASCII_END.search(key)[0]) for key in keys)  # type: ignore[index]
        gap = max((len(run) for key in keys for run in _ASCII_INSIDE.findall(key)), default=0)
        # runs closer than the widening are joined, so no two windows overlap and no
        # match is found twice; a short gap is scanned rather than start a window
        join = max(gap, self._before + self._after, _JOIN)
        self._runs = re.compile(rf"[^\x00-\x7f]+(?:[\x00-\x7f]{{1,{join}}}[^\x00-\x7f]+)*")

    @property
    def automaton(self) -> ahocorasick.Automaton:
        """The automaton of these keys (each yields its value)."""
        return self._automaton

    def hits(self, text: str) -> list[_Hit]:
        """What one automaton of these keys yields over `text`, in its order."""
        before, after, size = self._before, self._after, len(text)
        automaton = self._automaton
        hits: list[_Hit] = []
        for run in self._runs.finditer(text):
            hits.extend(
                automaton.iter(text, max(run.start() - before, 0), min(run.end() + after, size))
            )
        return hits


def _merged(other: list[_Hit], ascii_hits: list[_Hit]) -> list[_Hit]:
    """The hits of both automata in the order one automaton of every key yields them: by
    last character, and at one character longest first. Where two hits end at one
    character, the one of a key with a non-ASCII character is the longer (the text under
    the ASCII key is all ASCII), so a stable sort by last character that puts `other`
    first gives that order."""
    return sorted(other + ascii_hits, key=itemgetter(0)) if ascii_hits else other


def _flags(text: str) -> bytes:
    """Per character of `text`: 1 a word character, 2 a character to look at (not ASCII,
    or "?"), 0 else; one more 0 stands for the text's end (and, as index -1, for its start).

    `fold(text)` and its lower-cased form get the same flags: lower-casing keeps an
    ASCII character ASCII and a letter or digit one, and a character flagged 2 is looked
    at in the text being scanned.
    """
    return text.encode("ascii", "replace").translate(_FLAGS) + b"\0"


def _scan_into(
    matches: Iterable[_Hit],
    text: str,
    flags: bytes,
    sentences: Sequence[Span],
    found: list[list[Occurrence]],
    keys: list[set[str]],
) -> None:
    """Add the automaton matches (`matches`, over `text`) that respect word boundaries to
    their sentences (`flags` is `_flags(text)`)."""
    size = len(text)
    count = len(sentences)
    index = 0
    sentence_start, sentence_end = sentences[0]
    next_start = sentences[1][0] if count > 1 else size + 1
    add, update = found[0].append, keys[0].update
    for last, (length, left_bound, right_bound, labels, wild) in matches:
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
