"""Find every term of every concept in one pass over the text.

Terms are literal phrases, case-insensitive, with `*` at the end for inflection
(`delay*` matches delays, delayed). Braces spell several phrases at once:
`{held,holding} back` is "held back" and "holding back", `{the ,}ban` is "the ban" and
"ban", `in {2000..2018}` is nineteen phrases. Latin terms respect word boundaries ("Dy"
is not inside "Dynamic"); Chinese terms match anywhere. `re:` introduces a regular
expression for the rare case that needs one (case-insensitive unless it says
`(?-i:...)`).

Literal terms go into one Aho–Corasick automaton (a second one for case-sensitive
terms), so the cost is one scan of the text however many terms there are. A regular
expression costs a scan of its own; one that only names a word (`re:(?-i:\\bUS\\b)`)
is turned into a literal, and one without capitals runs on the lower-cased text,
where it needs no IGNORECASE flag (that flag disables the regex engine's prefix search).
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick

from watcher.classify.text import fold, fold_lower

MAX_EXPANSIONS = 2_000
_BRACES = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"(\d+)\.\.(\d+)")
_WORD_REGEX = re.compile(r"(\(\?-i:)?\\b([^\W_]+(?: [^\W_]+)*)\\b(\))?")
_ESCAPE = re.compile(r"\\.")
_WORD_RUN = re.compile(r"[^\W_\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]*")
_CJK_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


class TermError(ValueError):
    """A term that cannot be compiled; the message says why."""


class Match(NamedTuple):
    """One occurrence of a term: [start, end) in the text and the label it belongs to."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A compiled literal term: normalised key, `*` inflection, case sensitivity."""

    key: str
    wildcard: bool
    cased: bool


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled `re:` term and the text it runs on (lower-cased or as written)."""

    pattern: re.Pattern[str]
    on_lowered: bool


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


def _is_word_char(char: str) -> bool:
    return char.isalnum() and (char < "\u3000" or not is_cjk(char))


def expand_braces(term: str) -> list[str]:
    """Every phrase a term with `{a,b}` / `{1..9}` groups spells; raise `TermError` if malformed."""
    parts: list[list[str]] = []
    pos = 0
    for match in _BRACES.finditer(term):
        parts.append([term[pos : match.start()]])
        inner = match.group(1)
        span = _RANGE.fullmatch(inner)
        if span:
            low, high = int(span.group(1)), int(span.group(2))
            if high < low:
                raise TermError(f"{term!r}: range {{{inner}}} runs backwards")
            parts.append([str(n) for n in range(low, high + 1)])
        else:
            parts.append(inner.split(","))
        pos = match.end()
    parts.append([term[pos:]])
    if any("{" in p or "}" in p for options in parts for p in options):
        raise TermError(f"{term!r}: unbalanced or nested braces")
    total = 1
    for options in parts:
        total *= len(options)
    if total > MAX_EXPANSIONS:
        raise TermError(f"{term!r} spells {total} phrases; at most {MAX_EXPANSIONS}")
    return ["".join(combo) for combo in itertools.product(*parts)]


def parse_term(term: str, *, cased: bool = False) -> list[Literal | Regex]:
    """The compiled forms of one term; raise `TermError` when it cannot match anything.

    An invalid regex, a regex that matches the empty string, a misplaced `*`, malformed
    braces and an empty term are errors.
    """
    raw = term.strip()
    if raw.startswith("re:"):
        return [_parse_regex(raw[3:])]
    out: list[Literal | Regex] = []
    for phrase in expand_braces(raw):
        wildcard = phrase.endswith("*")
        body = phrase[:-1] if wildcard else phrase
        if "*" in body:
            raise TermError(f"{term!r}: '*' is allowed only at the end of a term")
        key = " ".join((fold(body) if cased else fold_lower(body)).split())
        if not key:
            raise TermError(f"{term!r} is empty" if raw else "an empty term")
        out.append(Literal(key, wildcard, cased))
    return out


def _parse_regex(source: str) -> Literal | Regex:
    try:
        pattern = re.compile(source, re.IGNORECASE)
    except re.error as exc:
        raise TermError(f"invalid regular expression {source!r}: {exc}") from None
    if pattern.match(""):
        raise TermError(f"regular expression {source!r} matches the empty string")
    word = _WORD_REGEX.fullmatch(source)
    if word and bool(word.group(1)) == bool(word.group(3)):
        cased = bool(word.group(1))
        return Literal(word.group(2) if cased else word.group(2).lower(), False, cased)
    if "(?-i" not in source and not any(c.isupper() for c in _ESCAPE.sub("", source)):
        return Regex(re.compile(source), on_lowered=True)
    return Regex(pattern, on_lowered=False)


Occurrence = tuple[int, int, tuple[str, ...]]
"""[start, end) of a matched phrase and every label whose term it is."""

Span = tuple[int, int]  # [start, end) of a sentence, like `text.Sentence`


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
        self._automata: list[tuple[bool, ahocorasick.Automaton]] | None = None
        self._regexes: list[tuple[Regex, str]] = []

    def add(self, term: str, label: str, *, cased: bool = False) -> None:
        """Add `term` under `label`; raise `TermError` if it cannot match anything."""
        for form in parse_term(term, cased=cased):
            if isinstance(form, Regex):
                self._regexes.append((form, label))
                continue
            keys = self._keys[form.cased]
            exact, wild = keys.get(form.key, ((), ()))
            if form.wildcard and label not in wild:
                keys[form.key] = (exact, (*wild, label))
            elif not form.wildcard and label not in exact:
                keys[form.key] = ((*exact, label), wild)
        self._automata = None

    @property
    def regex_count(self) -> int:
        """How many terms need a regex scan of their own (each costs a pass over the text)."""
        return len(self._regexes)

    def _build(self) -> list[tuple[bool, ahocorasick.Automaton]]:
        self._automata = []
        for cased, keys in self._keys.items():
            if not keys:
                continue
            automaton = ahocorasick.Automaton()
            for key, (exact, wild) in keys.items():
                latin = not any(is_cjk(c) for c in key)
                automaton.add_word(
                    key,
                    (
                        len(key),
                        latin and _is_word_char(key[0]),
                        latin and (bool(wild) or _is_word_char(key[-1])),
                        exact + wild,
                        wild,
                    ),
                )
            automaton.make_automaton()
            self._automata.append((cased, automaton))
        return self._automata

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
            for cased, automaton in automata:
                _scan_into(automaton, folded if cased else lowered, sentences, found, keys)
            if self._regexes:
                self._bucket_regexes(folded, lowered, sentences, found, keys)
        return found, keys

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
        return sorted(found[0])

    def find(self, folded: str, lowered: str) -> list[Match]:
        """Every match in the text, one per label, in document order."""
        return [
            Match(start, end, label)
            for start, end, labels in self.occurrences(folded, lowered)
            for label in labels
        ]


def _scan_into(
    automaton: ahocorasick.Automaton,
    text: str,
    sentences: Sequence[Span],
    found: list[list[Occurrence]],
    keys: list[set[str]],
) -> None:
    """Add the automaton's matches that respect word boundaries to their sentences."""
    size = len(text)
    count = len(sentences)
    index = 0
    sentence_start, sentence_end = sentences[0]
    next_start = sentences[1][0] if count > 1 else size + 1
    add, update = found[0].append, keys[0].update
    for last, (length, left_bound, right_bound, labels, wild) in automaton.iter(text):
        end = last + 1
        start = end - length
        if left_bound and start:
            before = text[start - 1]
            if before.isalnum() and (before < "\u3000" or not is_cjk(before)):
                continue
        stop = end
        if right_bound and end < size:
            after = text[end]
            if after.isalnum() and (after < "\u3000" or not is_cjk(after)):
                if not wild:
                    continue
                labels = wild  # only `*` terms run on into the rest of the word
                stop = _WORD_RUN.match(text, end).end()  # type: ignore[union-attr]  # `*` matches empty
        if last >= next_start:
            while last >= next_start:
                index += 1
                next_start = sentences[index + 1][0] if index + 1 < count else size + 1
            sentence_start, sentence_end = sentences[index]
            add, update = found[index].append, keys[index].update
        if sentence_start <= start and stop <= sentence_end:
            add((start, stop, labels))
            update(labels)
