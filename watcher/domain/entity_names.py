"""Subscribers' element and country filters read with the classifier's vocabulary.

`canonical_element("neodymium")` is `"Nd"`, the name the classifier gives the element
in a signal's entities; so are `"Nd"`, `"nd"` and `"钕"`. `canonical_country` does the
same for countries (`"china"`, `"PRC"`, `"中国"` → `"China"`). A value the vocabulary
does not know raises `ValueError` naming the nearest known names, so a filter that could
never match is a config error, not a subscriber who silently receives nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cache

from watcher.domain.folding import fold_lower
from watcher.domain.vocabulary import (
    CASED_COUNTRIES,
    COUNTRIES,
    ELEMENTS,
    MINERALS,
    SYMBOLS,
)

MAX_SUGGESTIONS = 3


def canonical_element(value: str) -> str:
    """The canonical name of the element (or critical mineral) `value` names.

    Raises `ValueError` with the nearest known names when the vocabulary has no such element.
    """
    return _resolve(value, "element", _element_aliases())


def canonical_country(value: str) -> str:
    """The canonical name of the country (or bloc) `value` names.

    Raises `ValueError` with the nearest known names when the vocabulary has no such country.
    """
    return _resolve(value, "country", _country_aliases())


def _resolve(value: str, what: str, aliases: Mapping[str, str]) -> str:
    key = _key(value)
    found = aliases.get(key)
    if found is not None:
        return found
    close = difflib.get_close_matches(key, list(aliases), n=10, cutoff=0.6)
    names = list(dict.fromkeys(aliases[alias] for alias in close))[:MAX_SUGGESTIONS]
    if names:
        hint = "did you mean " + " or ".join(_described(name, what) for name in names) + "?"
    else:
        hint = "known: " + ", ".join(dict.fromkeys(aliases.values()))
    raise ValueError(f"unknown {what} {value!r}; {hint}")


def _described(name: str, what: str) -> str:
    """`Dy (dysprosium)`: a symbol with its English name, so the suggestion reads."""
    if what == "element":
        english = next((t for t in _ELEMENT_TERMS.get(name, []) if t.isascii()), None)
        if english and english.lower() != name.lower():
            return f"{name} ({english})"
    return name


def _key(value: str) -> str:
    return " ".join(fold_lower(value.strip()).split())


_ELEMENT_TERMS: dict[str, list[str]] = {**ELEMENTS, **MINERALS}


@cache
def _element_aliases() -> dict[str, str]:
    return _aliases([ELEMENTS, MINERALS, SYMBOLS])


@cache
def _country_aliases() -> dict[str, str]:
    return _aliases([COUNTRIES, CASED_COUNTRIES])


def _aliases(tables: list[dict[str, list[str]]]) -> dict[str, str]:
    """Every way of writing a name (the name itself, each of its terms) → the name."""
    aliases: dict[str, str] = {}
    for table in tables:
        for name, terms in table.items():
            for written in (name, *terms):
                aliases.setdefault(_key(written.rstrip("*")), name)
    return aliases
