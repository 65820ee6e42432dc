"""The length-preserving normalisation that rule terms and the matcher agree on.

Offsets matter: evidence spans are reported in the original sentence, so every
normalisation here keeps the text's length (one character in, one character out).

Besides dashes, odd spaces and curly quotes, traditional Chinese is written in
simplified characters (OpenCC's `t2s` conversion, phrase-aware), so a rule names each
Chinese term once: 暫停實施 is matched by 暂停实施. OpenCC converts character for
character in practice; where a phrase would change the length, that run of ideographs
is converted one character at a time instead, so offsets never move.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

import opencc

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
# the pairs an ASCII text can hold (it needs no other, and no Chinese simplification)
_ASCII_PAIRS = tuple((old, new) for old, new in _FOLD_PAIRS if old.isascii())
# the ideograph blocks OpenCC's character tables cover (CJK unified, extension A,
# compatibility ideographs)
_IDEOGRAPH_RANGES = ((0x3400, 0xA000), (0xF900, 0xFB00))
_BLOCK = 1024  # ideographs converted a block at a time (`_character_table`)
_IDEOGRAPH_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


class _Simplifier:
    """Traditional → simplified Chinese with OpenCC, keeping the text's length."""

    def __init__(self) -> None:
        self._convert = opencc.OpenCC("t2s").convert
        traditional, simplified = _character_table(self._convert)
        # made from two strings once the table's temporaries are gone: kept from among
        # them, its 4,000 entries would pin pages that the temporaries had filled
        self.chars: dict[str, str] = dict(zip(traditional, simplified, strict=True))
        # a text with none of these characters is already simplified: one regex scan
        # (a character class is a bitmap test) instead of a call into OpenCC
        self.traditional = re.compile(f"[{''.join(sorted(traditional))}]")

    def is_simplified(self, text: str) -> bool:
        """True when `text` holds no traditional character: `simplify` returns it as it is."""
        return text.isascii() or self.traditional.search(text) is None

    def simplify(self, text: str) -> str:
        """`text` in simplified characters, the same length as `text`."""
        if self.is_simplified(text):
            return text
        out: str = self._convert(text)
        if len(out) == len(text):
            return out
        return _IDEOGRAPH_RUN.sub(self._run, text)

    def _run(self, match: re.Match[str]) -> str:
        run = match.group()
        out: str = self._convert(run)
        if len(out) == len(run):
            return out
        return "".join(self.chars.get(c, c) for c in run)


def _character_table(convert: Callable[[str], str]) -> tuple[str, str]:
    """The ideographs OpenCC writes as another single character, and those characters
    (two strings of equal length, in code-point order).

    One character a line, so no two characters convert as a phrase. The 28,000 lines
    are made a block at a time and compared a character at a time: all of them alive
    at once as one-character strings would leave about 2 MB of the allocator's pages
    pinned by the few that are kept.
    """
    source = "\n".join(
        "\n".join(map(chr, range(start, min(start + _BLOCK, high))))
        for low, high in _IDEOGRAPH_RANGES
        for start in range(low, high, _BLOCK)
    )
    lines = convert(source)
    if len(lines) == len(source) and lines[1::2] == source[1::2]:  # one character a line
        pairs = zip(source[::2], lines[::2], strict=True)
    else:
        pairs = zip(source[::2], lines.split("\n"), strict=True)
    traditional, simplified = [], []
    for old, new in pairs:
        if old != new and len(new) == 1:
            traditional.append(old)
            simplified.append(new)
    return "".join(traditional), "".join(simplified)


@cache
def _simplifier() -> _Simplifier:
    return _Simplifier()


def simplify(text: str) -> str:
    """Traditional Chinese characters in `text` written as simplified; same length."""
    return _simplifier().simplify(text)


def is_simplified(text: str) -> bool:
    """True when `simplify(text)` is `text` itself: it holds no traditional character."""
    return _simplifier().is_simplified(text)


def fold(text: str) -> str:
    """Spaces for dashes and line breaks, straight quotes, simplified Chinese; same length."""
    # str.replace per character beats str.translate, which is slow on non-ASCII text
    ascii_only = text.isascii()  # most terms and many documents: 4 scans, not 17, no OpenCC
    for old, new in _ASCII_PAIRS if ascii_only else _FOLD_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text if ascii_only else simplify(text)


def lower_folded(folded: str) -> str:
    """Lower-case a folded text, keeping its length (odd characters are kept as they are)."""
    lowered = folded.lower()
    if len(lowered) == len(folded):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in folded)


def fold_lower(text: str) -> str:
    """`fold` then lower-case, still the same length as `text`."""
    return lower_folded(fold(text))
