"""Sentences and the length-preserving normalisation the matcher runs on.

Offsets matter: evidence spans are reported in the original sentence, so every
normalisation here keeps the text's length (one character in, one character out).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Dashes and odd spaces become plain spaces; curly quotes straight. One character in,
# one character out, so offsets in the folded text are offsets in the original.
_FOLD_PAIRS = (
    ("\n", " "),
    ("\r", " "),
    ("\t", " "),
    ("\u00a0", " "),
    ("\u2009", " "),
    ("\u202f", " "),
    ("\u3000", " "),
    ("-", " "),
    ("\u2010", " "),
    ("\u2011", " "),
    ("\u2012", " "),
    ("\u2013", " "),
    ("\u2014", " "),
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
)

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
_LIST_LINE = re.compile(r"[ \t]*(#{1,6}\s|[-*•]\s|\d+[.)]\s)")  # match() anchors at pos
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def fold(text: str) -> str:
    """Spaces for dashes and line breaks, straight quotes; same length as `text`."""
    # str.replace per character beats str.translate, which is slow on non-ASCII text
    for old, new in _FOLD_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text


def lower_folded(folded: str) -> str:
    """Lower-case a folded text, keeping its length (odd characters are kept as they are)."""
    lowered = folded.lower()
    if len(lowered) == len(folded):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in folded)


def fold_lower(text: str) -> str:
    """`fold` then lower-case, still the same length as `text`."""
    return lower_folded(fold(text))


class Sentence(NamedTuple):
    """A sentence as offsets [start, end) into the text it was split from."""

    start: int
    end: int


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Split `text` into sentences (English and Chinese punctuation, paragraphs, list lines).

    Abbreviations (`U.S.`, `No.`, `Jan.`), initials and decimals do not end a sentence.
    Offsets are shifted by `offset`; empty sentences are dropped.
    """
    out: list[Sentence] = []
    for para_start, para_end in _blocks(text):
        block = text[para_start:para_end]
        start = para_start + len(block) - len(block.lstrip())
        for match in _SENTENCE_END.finditer(text, start, para_end):
            out.append(Sentence(start + offset, match.end(1) + offset))
            start = match.end()
        rest = text[start:para_end].rstrip()
        if rest:
            out.append(Sentence(start + offset, start + len(rest) + offset))
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
