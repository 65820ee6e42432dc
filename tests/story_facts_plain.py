"""The plain forms of `watcher.domain.story_facts`' faster passes: what the tests hold
each fast pass to.

`_held` finds in one automaton pass the words one `in` per word finds (`holds_any`);
`_YEAR`, `_PLACE` and `_ISO_DAY` begin with the character they consume, these with a
lookbehind or a word boundary first.
"""

from __future__ import annotations

from collections.abc import Iterable

from watcher.domain import story_facts

YEAR_PLAIN = r"(?<![\d.,$])((?:19|20)\d\d)(?![\d.,]\d|\s?(?:%|tonnes?|tons?|t\\b))"
PLACE_PLAIN = rf"\b(?:in|at|near|from)[ ]+({story_facts._NAME})((?:, {story_facts._NAME})*)"
ISO_DAY_PLAIN = r"\b(20\d\d)-(\d\d)-(\d\d)\b"


def holds_any(folded: str, words: Iterable[str]) -> bool:
    """True when `folded` (`story_facts._folded`) holds one of `words`: then a pattern
    ignoring case, each of whose matches holds one of `words`, may match the text."""
    return any(map(folded.__contains__, words))
