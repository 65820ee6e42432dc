"""Sentences and the length-preserving normalisation the matcher runs on.

Offsets matter: evidence spans are reported in the original sentence, so every
normalisation here keeps the text's length (one character in, one character out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Dashes, slashes between words and odd spaces become plain spaces; curly quotes straight.
_FOLD = str.maketrans(
    {
        "\n": " ",
        "\r": " ",
        "\t": " ",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u3000": " ",
        "-": " ",
        "\u2010": " ",
        "\u2011": " ",
        "\u2012": " ",
        "\u2013": " ",
        "\u2014": " ",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
    }
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
        "k.",
    }
)
_CANDIDATE = re.compile(
    r"[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9\u4e00-\u9fff])|[。！？；]+[”」』）]*"
)
_LIST_LINE = re.compile(r"^\s*(#{1,6}\s|[-*•]\s|\d+[.)]\s)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def fold(text: str) -> str:
    """Spaces for dashes and line breaks, straight quotes; same length as `text`."""
    return text.translate(_FOLD)


def fold_lower(text: str) -> str:
    """`fold` then lower-case, still the same length (odd characters are kept as they are)."""
    folded = fold(text)
    lowered = folded.lower()
    if len(lowered) == len(folded):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in folded)


@dataclass(frozen=True, slots=True)
class Sentence:
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
        start = para_start
        for match in _CANDIDATE.finditer(text, para_start, para_end):
            if match.group()[0] == "." and _is_abbreviation(text, start, match.start()):
                continue
            end = match.end()
            _append(out, text, start, end, offset)
            start = end
        _append(out, text, start, para_end, offset)
    return out


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs split on blank lines; headings and list lines stand alone."""
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


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation or an initial, not a sentence."""
    word_start = dot
    while word_start > start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lower().lstrip("(\"'")
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha() and text[word_start].isupper()


def _append(out: list[Sentence], text: str, start: int, end: int, offset: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start + offset, end + offset))
