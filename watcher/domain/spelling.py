"""Near misses: the known names closest to a misspelt one, for "did you mean" hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_SUGGESTIONS = 3


def nearest(value: str, known: Iterable[str], limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The known names closest to `value` in spelling (case-insensitive), best first."""
    by_key: dict[str, str] = {}
    for name in known:
        by_key.setdefault(name.lower(), name)
    close = difflib.get_close_matches(value.lower(), list(by_key), n=limit, cutoff=0.6)
    return [by_key[key] for key in close]


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """`"; did you mean 'feed'?"` for a near miss of one of `known`, else `""`."""
    close = nearest(value, known)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(name) for name in close) + "?"
