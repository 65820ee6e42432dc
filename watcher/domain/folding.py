"""The length-preserving normalisation that rule terms and the matcher agree on.

Offsets matter: evidence spans are reported in the original sentence, so every
normalisation here keeps the text's length (one character in, one character out).
"""

from __future__ import annotations

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
