"""Sentences and their clauses: where each begins and ends in the text, as offsets.

Offsets matter: evidence spans are reported in the original sentence, so sentences are
slices of the text (see `watcher.domain.folding` for the normalisation the matcher runs on).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from watcher.classify.lists import is_list_comma

_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "co",
        "corp",
        "inc",
        "ltd",
        "plc",
        "no",
        "nos",
        "vs",
        "etc",
        "approx",
        "est",
        "fig",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "e.g",
        "i.e",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "a.m",
        "p.m",
        "mt",
        "bn",
        "mln",
    }
)
# A sentence ends at . ! ? followed by white space and a capital, digit or ideograph, or at
# Chinese 。！？；. A period right after an abbreviation (`U.S.`, `No.`, `Jan.`) or an
# initial (`J. Smith`) ends nothing. One look-behind per abbreviation length (alternatives
# of one width), checked only at a period; the leading character class lets the regex
# engine jump from candidate to candidate, so the split is one fast scan.
_BY_LENGTH: dict[int, list[str]] = {}
for _abbreviation in sorted(_ABBREVIATIONS):
    _BY_LENGTH.setdefault(len(_abbreviation), []).append(re.escape(_abbreviation))
_NOT_AFTER = "".join(f"(?<!\\b(?:{'|'.join(words)})\\.)" for words in _BY_LENGTH.values())
_FOLLOWED = r"[.!?]*[\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9\u4e00-\u9fff])"
# group 1 is the sentence's last character; the white space after it is consumed too
_SENTENCE_END = re.compile(
    r"([.!?。！？；]"
    rf"(?:(?<=\.)(?i:{_NOT_AFTER})(?<!\b[A-Z]\.){_FOLLOWED}"
    rf"|(?<=[!?]){_FOLLOWED}"
    r"|(?<=[。！？；])[。！？；]*[”」』）]*))\s*"
)
# the same on a text with no mark but the period: a literal first character, which the
# regex engine finds by a quick search instead of a set test at every character
_PERIOD_END = re.compile(rf"(\.(?i:{_NOT_AFTER})(?<!\b[A-Z]\.){_FOLLOWED})\s*")
_OTHER_MARK = re.compile(r"[!?。！？；]")
_LIST_LINE = re.compile(r"[ \t]*(#{1,6}\s|[-*•]\s|\d+[.)]\s)")  # match() anchors at pos
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class Sentence(NamedTuple):
    """A sentence as offsets [start, end) into the text it was split from."""

    start: int
    end: int


_new_sentence = tuple.__new__  # `Sentence(start, end)` without the Python-level __new__


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Split `text` into sentences (English and Chinese punctuation, paragraphs, list lines).

    Abbreviations (`U.S.`, `No.`, `Jan.`), initials and decimals do not end a sentence.
    Offsets are shifted by `offset`; empty sentences are dropped.
    """
    out: list[Sentence] = []
    ends = (
        _PERIOD_END
        if "!" not in text and "?" not in text and (text.isascii() or not _OTHER_MARK.search(text))
        else _SENTENCE_END
    ).finditer
    for para_start, para_end in _blocks(text):
        block = text[para_start:para_end]
        start = para_start + len(block) - len(block.lstrip())
        for match in ends(text, start, para_end):
            out.append(_new_sentence(Sentence, (start + offset, match.end(1) + offset)))
            start = match.end()
        rest = text[start:para_end].rstrip()
        if rest:
            out.append(_new_sentence(Sentence, (start + offset, start + len(rest) + offset)))
    return out


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs split on blank lines; headings and list lines stand alone."""
    if "\n" not in text:
        return [(0, len(text))]
    blocks: list[tuple[int, int]] = []
    pos = 0
    for match in _BLANK_LINE.finditer(text):
        blocks.extend(_lines(text, pos, match.start()))
        pos = match.end()
    blocks.extend(_lines(text, pos, len(text)))
    return blocks


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Within a paragraph, a heading or list line is its own block; wrapped lines join."""
    out: list[tuple[int, int]] = []
    block_start = start
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        line_end = end if newline < 0 else newline
        if _LIST_LINE.match(text, pos, line_end) and pos > block_start:
            out.append((block_start, pos))
            block_start = pos
        if _LIST_LINE.match(text, pos, line_end) and text[pos:line_end].lstrip().startswith("#"):
            out.append((block_start, line_end))
            block_start = line_end
        pos = line_end + 1
    if block_start < end:
        out.append((block_start, end))
    return out


# Where a clause ends inside a sentence: a comma or colon before white space or an
# ideograph, or after an ideograph (Chinese text often has ASCII commas: "…進口,2025年…";
# not the one in 60,000), a semicolon, a dash, the Chinese marks, and the conjunctions
# that join two statements ("…, cutting off exports" is not "controls on exports";
# "…closed, but trucks still cross" is two facts).
_CLAUSE_MARK = re.compile(
    r"[,:](?:(?=\s|[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff][,:]))|[;，；：–—]|[ \t\n]-+[ \t\n]"
)
# run on the lower-cased text: without IGNORECASE the engine jumps between first letters
_CLAUSE_WORD = re.compile(
    r"\b(?:but|while|whereas|although|though|however)\b|但|不过|不過|然而|儘管|尽管|雖然|虽然"
)


_WORDS = ("but", "while", "whereas", "although", "though", "however")
# a sentence `_CLAUSE_WORD` can match in holds one of these ("although" holds "though")
_ALL_WORDS = (
    *("but", "while", "whereas", "though", "however"),
    *("但", "不过", "不過", "然而", "儘管", "尽管", "雖然", "虽然"),
)
_DASH = re.compile(r"[ \t\n]-+[ \t\n]")


def clause_breaks(text: str, start: int, end: int, lowered: str | None = None) -> list[int]:
    """Offsets (into `text`) where a clause of the sentence [start, end) ends, in order.

    `lowered` is the text lower-cased with its length kept, when the caller has it.
    A comma that joins two minerals of a list ("bans gallium, germanium exports") ends
    no clause (`lists.is_list_comma`).
    An ASCII text is searched with `str.find` for each mark and word, the same offsets
    as `_CLAUSE_MARK` and `_CLAUSE_WORD` find at a fifth of the cost.
    """
    if text.isascii():
        breaks = _ascii_marks(text, start, end)
    else:
        breaks = [m.start() for m in _CLAUSE_MARK.finditer(text, start, end)]
    if lowered is None:
        low = text.lower()
        lowered = low if len(low) == len(text) else text
    if lowered.isascii():
        words = _ascii_words(lowered, start, end)
    else:
        piece = lowered[start:end]
        # the regex tries every position; most sentences hold none of its words at all
        for word in _ALL_WORDS:
            if word in piece:
                words = [m.start() for m in _CLAUSE_WORD.finditer(lowered, start, end)]
                break
        else:
            words = []
    if breaks and "," in lowered[start:end]:
        # "bans gallium, germanium exports": a comma inside a list of minerals
        breaks = [b for b in breaks if not is_list_comma(lowered, b, start, end)]
    if words:
        breaks.extend(words)
        breaks.sort()
    return breaks


def _ascii_marks(text: str, start: int, end: int) -> list[int]:
    """`_CLAUSE_MARK`'s offsets in an ASCII sentence."""
    find = text.find
    piece = text[start:end]  # `in` on a slice is cheaper than a `find` call per mark
    out = []
    for mark in ",:":  # before white space in the sentence (not the one in 60,000)
        if mark in piece:
            at = find(mark, start, end - 1)
            while at >= 0:
                if text[at + 1].isspace():
                    out.append(at)
                at = find(mark, at + 1, end - 1)
    if ";" in piece:
        at = find(";", start, end)
        while at >= 0:
            out.append(at)
            at = find(";", at + 1, end)
    if "-" in piece:
        out.extend(m.start() for m in _DASH.finditer(text, start, end))
    out.sort()
    return out


def _ascii_words(lowered: str, start: int, end: int) -> list[int]:
    """`_CLAUSE_WORD`'s offsets in an ASCII sentence, lower-cased."""
    find = lowered.find
    piece = lowered[start:end]
    out = []
    for word in _WORDS:
        if word not in piece:
            continue
        at = find(word, start, end)
        while at >= 0:
            after = at + len(word)
            if (at == 0 or not _is_word(lowered[at - 1])) and (
                after == end or not _is_word(lowered[after])
            ):
                out.append(at)
            at = find(word, at + 1, end)
    out.sort()
    return out


def _is_word(char: str) -> bool:
    """A character of `\\w` (what `\\b` tells words by)."""
    return char.isalnum() or char == "_"
