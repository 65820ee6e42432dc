"""Find every term of every concept in one pass over the text.

Terms are literal phrases, case-insensitive, with `*` at the end for inflection
(`delay*` matches delays, delayed). Latin terms respect word boundaries ("Dy" is not
inside "Dynamic"); Chinese terms match anywhere. `re:` introduces a regular expression
for the rare case that needs one (case-insensitive unless it says `(?-i:...)`).
Literal terms go into one Aho–Corasick automaton, so the cost is one scan of the text
however many terms there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from watcher.classify.text import fold, fold_lower


class TermError(ValueError):
    """A term that cannot be compiled; the message says why."""


@dataclass(frozen=True, slots=True)
class Match:
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


def _is_word_char(char: str) -> bool:
    return char.isalnum() and not is_cjk(char)


@dataclass(frozen=True, slots=True)
class _Entry:
    label: str
    length: int
    wildcard: bool
    bounded: bool


def parse_term(term: str, *, cased: bool = False) -> re.Pattern[str] | tuple[str, bool]:
    """A compiled `re:` term, or the normalised literal and whether it ends in `*`.

    Raises `TermError` for an invalid regex, a misplaced `*` or an empty term.
    """
    raw = term.strip()
    if raw.startswith("re:"):
        try:
            pattern = re.compile(raw[3:], re.IGNORECASE)
        except re.error as exc:
            raise TermError(f"invalid regular expression {raw[3:]!r}: {exc}") from None
        if pattern.match(""):
            raise TermError(f"regular expression {raw[3:]!r} matches the empty string")
        return pattern
    wildcard = raw.endswith("*")
    body = raw[:-1] if wildcard else raw
    if "*" in body:
        raise TermError(f"{term!r}: '*' is allowed only at the end of a term")
    key = " ".join((fold(body) if cased else fold_lower(body)).split())
    if not key:
        raise TermError(f"{term!r} is empty")
    return key, wildcard


class TermMatcher:
    """Compiled terms of many labels; `find` returns every match in document order."""

    def __init__(self) -> None:
        self._lower = ahocorasick.Automaton()
        self._cased = ahocorasick.Automaton()
        self._has_lower = False
        self._has_cased = False
        self._regexes: list[tuple[re.Pattern[str], str]] = []
        self._built = False

    def add(self, term: str, label: str, *, cased: bool = False) -> None:
        """Add `term` under `label`; raise `TermError` if it cannot match anything."""
        parsed = parse_term(term, cased=cased)
        if isinstance(parsed, re.Pattern):
            self._regexes.append((parsed, label))
            return
        key, wildcard = parsed
        bounded = not any(is_cjk(c) for c in key)
        automaton = self._cased if cased else self._lower
        entry = _Entry(label, len(key), wildcard, bounded)
        existing = automaton.get(key, ())
        automaton.add_word(key, (*existing, entry))
        if cased:
            self._has_cased = True
        else:
            self._has_lower = True

    def _build(self) -> None:
        if self._has_lower:
            self._lower.make_automaton()
        if self._has_cased:
            self._cased.make_automaton()
        self._built = True

    def find(self, folded: str, lowered: str) -> list[Match]:
        """Every match in the text, given as `fold(text)` and `fold_lower(text)`."""
        if not self._built:
            self._build()
        out: list[Match] = []
        if self._has_lower:
            self._scan(self._lower, lowered, out)
        if self._has_cased:
            self._scan(self._cased, folded, out)
        for pattern, label in self._regexes:
            out.extend(Match(m.start(), m.end(), label) for m in pattern.finditer(folded))
        out.sort(key=lambda m: (m.start, -m.end))
        return out

    @staticmethod
    def _scan(automaton: ahocorasick.Automaton, text: str, out: list[Match]) -> None:
        size = len(text)
        for last, entries in automaton.iter(text):
            for entry in entries:
                start = last - entry.length + 1
                end = last + 1
                if entry.bounded:
                    if start > 0 and _is_word_char(text[start - 1]):
                        continue
                    if entry.wildcard:
                        while end < size and _is_word_char(text[end]):
                            end += 1
                    elif end < size and _is_word_char(text[end]):
                        continue
                out.append(Match(start, end, entry.label))
