"""Term syntax: what a term in a concept's list means, compiled for the matcher.

A term is a literal phrase, case-insensitive, with `*` at the end for inflection
(`delay*` matches delays, delayed; a short ending, so `cap*` is not "capacity": see
`watcher.classify.matcher`). Chinese terms may be written in either script (they are
matched on simplified text). `A ... B` is two phrases in one clause, B after A with at
most `GAP_WORDS` words between ("suspend* ... {control,controls}" matches "suspend the
implementation of six export control announcements", not "suspended, cutting off
controls"): the verb-object pairs that a fixed phrase cannot spell. Braces spell
several phrases at once: `{held,holding} back` is "held back" and "holding back",
`{the ,}ban` is "the ban" and "ban", `in {2000..2018}` is nineteen phrases. `re:`
introduces a regular expression for the rare case that needs one (case-insensitive
unless it says `(?-i:...)`); one that only names a word (`re:(?-i:\\bUS\\b)`) becomes a
literal, and one without capitals is marked to run on the lower-cased text, where it
needs no IGNORECASE flag (that flag disables the regex engine's prefix search).
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass

from watcher.domain.folding import fold, fold_lower

MAX_EXPANSIONS = 2_000
GAP = " ... "
GAP_WORDS = 10
_BRACES = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"(\d+)\.\.(\d+)")
_WORD_REGEX = re.compile(r"(\(\?-i:)?\\b([^\W_]+(?: [^\W_]+)*)\\b(\))?")
_ESCAPE = re.compile(r"\\.")


class TermError(ValueError):
    """A term that cannot be compiled; the message says why."""


@dataclass(frozen=True, slots=True)
class Literal:
    """A compiled literal term: normalised key, `*` inflection, case sensitivity."""

    key: str
    wildcard: bool
    cased: bool


@dataclass(frozen=True, slots=True)
class Gapped:
    """A compiled `A ... B` term: the literals of each side."""

    first: tuple[Literal, ...]
    second: tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled `re:` term and the text it runs on (lower-cased or as written)."""

    pattern: re.Pattern[str]
    on_lowered: bool


def _brace_groups(term: str) -> tuple[list[str], list[range | list[str]]]:
    """`term` cut at its `{a,b}` / `{1..9}` groups: the fixed text around them (one more
    piece than groups) and each group's options (a `range` for `{1..9}`); raise
    `TermError` for a range that runs backwards, unbalanced or nested braces, or more
    than `MAX_EXPANSIONS` phrases."""
    fixed: list[str] = []
    groups: list[range | list[str]] = []
    pos = 0
    for match in _BRACES.finditer(term):
        fixed.append(term[pos : match.start()])
        inner = match.group(1)
        span = _RANGE.fullmatch(inner)
        if span:
            low, high = int(span.group(1)), int(span.group(2))
            if high < low:
                raise TermError(f"{term!r}: range {{{inner}}} runs backwards")
            groups.append(range(low, high + 1))
        else:
            groups.append(inner.split(","))
        pos = match.end()
    fixed.append(term[pos:])
    if any("{" in part or "}" in part for part in fixed):
        raise TermError(f"{term!r}: unbalanced or nested braces")
    total = math.prod(len(options) for options in groups)
    if total > MAX_EXPANSIONS:
        raise TermError(f"{term!r} spells {total} phrases; at most {MAX_EXPANSIONS}")
    return fixed, groups


def expand_braces(term: str) -> list[str]:
    """Every phrase a term with `{a,b}` / `{1..9}` groups spells; raise `TermError` if malformed."""
    fixed, groups = _brace_groups(term)
    parts: list[list[str]] = [[fixed[0]]]
    for options, after in zip(groups, fixed[1:], strict=True):
        parts += [[str(n) for n in options] if isinstance(options, range) else options, [after]]
    return ["".join(combo) for combo in itertools.product(*parts)]


def check_term(term: str) -> None:
    """Raise the `TermError` that `parse_term(term)` would raise, with the same message;
    return None for a term it accepts.

    Builds nothing a matcher needs: no phrase is spelled out and no Chinese text is
    converted (which would build the OpenCC tables), so loading a config checks the
    2,291 default terms in about 7 ms of CPU, not the 66 ms compiling them takes. A
    term whose phrases could be malformed in a way only its phrases show (a `*` before
    the end; no letter or digit outside its braces nor in every option of one group)
    is compiled in full instead.
    """
    raw = term.strip()
    if raw.startswith("re:"):
        _parse_regex(raw[3:])
        return
    if GAP in f" {raw} ":
        sides = f" {raw} ".split(GAP)
        if len(sides) != 2 or not sides[0].strip() or not sides[1].strip():
            raise TermError(f"{term!r}: '...' joins exactly two phrases")
        for side in sides:
            _check_literals(term, side.strip())
        return
    _check_literals(term, raw)


def _check_literals(term: str, raw: str) -> None:
    """`_literals(term, raw, False)`'s errors, without spelling its phrases when it can."""
    # Most terms are one phrase: no braces, no `*` but a last one, a letter or digit.
    # Folding keeps all three as they are, so such a term is accepted as written.
    if "{" not in raw and "}" not in raw and "*" not in raw[:-1] and any(map(str.isalnum, raw)):
        return
    if raw.isascii():
        raw = fold_lower(raw)  # as `_literals` does, so brace errors quote the same text
    # A phrase is the fixed text plus one option of each brace group. With no `*` but a
    # last one, every phrase ends in that `*` or has none; with a letter or digit in the
    # fixed text or in every option of one group (folding never blanks one), no phrase
    # folds to an empty key. Anything else is compiled in full.
    if "*" in raw[:-1] or not _spells_a_word_always(raw):
        _literals(term, raw, False)


def _spells_a_word_always(term: str) -> bool:
    """Whether every phrase `term` spells has a letter or digit; raise `expand_braces`'s
    `TermError`s, in its order, without building its phrases."""
    fixed, groups = _brace_groups(term)
    worded = any(
        isinstance(options, range) or all(any(c.isalnum() for c in o) for o in options)
        for options in groups
    )
    return worded or any(c.isalnum() for part in fixed for c in part)


def parse_term(term: str, *, cased: bool = False) -> list[Literal | Regex | Gapped]:
    """The compiled forms of one term; raise `TermError` when it cannot match anything.

    An invalid regex, a regex that matches the empty string, a misplaced `*`, malformed
    braces, an empty term and more than one `...` are errors.

    The forms are immutable and kept per (term, cased) until `forget_parsed_terms`:
    linting the rules and building the classifier compile the same terms. Loading a
    config only checks them (`check_term`).
    """
    return list(_parse_term(term, cased))


def forget_parsed_terms() -> None:
    """Drop the forms `parse_term` kept (a built classifier's automata hold their keys:
    the default rules' 2,200 terms, 17,000 phrases, hold 3.7 MB); the next call parses
    afresh."""
    _parse_term.cache_clear()


@functools.lru_cache(maxsize=16_384)
def _parse_term(term: str, cased: bool) -> tuple[Literal | Regex | Gapped, ...]:
    raw = term.strip()
    if raw.startswith("re:"):
        return (_parse_regex(raw[3:]),)
    if GAP in f" {raw} ":
        sides = f" {raw} ".split(GAP)
        if len(sides) != 2 or not sides[0].strip() or not sides[1].strip():
            raise TermError(f"{term!r}: '...' joins exactly two phrases")
        first, second = (_literals(term, side.strip(), cased) for side in sides)
        return (Gapped(tuple(first), tuple(second)),)
    return tuple(_literals(term, raw, cased))


def _literals(term: str, raw: str, cased: bool) -> list[Literal]:
    out: list[Literal] = []
    # On ASCII text folding maps one character to one and leaves braces, commas, dots and
    # stars alone, so an ASCII term is folded once, not once per phrase it spells (the
    # default rules spell 17,000 phrases from 2,000 terms: half of a config's loading).
    # Other text is folded phrase by phrase: OpenCC converts Chinese by phrase.
    folded = raw.isascii()
    if folded:
        raw = fold(raw) if cased else fold_lower(raw)
    for phrase in expand_braces(raw):
        wildcard = phrase.endswith("*")
        body = phrase[:-1] if wildcard else phrase
        if "*" in body:
            raise TermError(f"{term!r}: '*' is allowed only at the end of a term")
        if not folded:
            body = fold(body) if cased else fold_lower(body)
        key = " ".join(body.split())
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
