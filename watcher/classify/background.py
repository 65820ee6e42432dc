"""Background: sentences that recount an event dated well before the item.

SIGNALS.md: an earlier event named only as context is no news, while a *current effect*
of an earlier event is ("export controls cut magnet output this month"). A sentence is
dated background when it names a year at least `BACKGROUND_YEARS` before the item's
year, names no recent year, and says nothing of the present ("now", "still", "this
month", "since", 目前, 仍, 至今). A year in an "after …" phrase that follows a present
perfect dates the cause of the news, not the news ("has resumed production after a
landslide halted it in 2010"). The
item's year is its publication date's, or, for an
undated item, the latest year it names (an undated item that names one old year only is
read as news: the classifier cannot tell).
"""

from __future__ import annotations

import re
from datetime import date

from watcher.classify.text import Sentence, clause_breaks

BACKGROUND_YEARS = 2
# 1950–2099, not inside a longer number or a decimal; written to start with a character
# class so the regex engine can jump from candidate to candidate (a leading look-behind
# would try every position: 20 µs per 1 KB item instead of 4)
# (a comma or point before it hides a year only after a digit, as in "1,2005" or
# "3.2010": Chinese text puts ASCII commas between clauses, "…進口,2025年前五個月…")
_YEAR = re.compile(r"[12](?<!\d[12])(?<!\d[.,][12])(?:9[5-9]|0\d)\d(?![\d%]|[.,]\d)")
_PRESENT = re.compile(
    r"\b(?i:now|currently|still|this (?:year|month|week|quarter)|so far|since|ongoing"
    r"|continu\w*|remain\w*|today|latest|recent\w*)\b"
    r"|目前|当前|當前|现在|現在|仍|至今|持续|持續|以来|以來|本月|今年|近期|最新|早在"
)


_AFTER = re.compile(r"\b(?i:after|following)\b|之后|之後|后|後")
# a present perfect before the "after" phrase: the news is a current state ("has resumed")
_PERFECT = re.compile(r"\b(?i:has|have)\b|已经|已經|已")


def years_of(text: str, sentence: Sentence) -> list[int]:
    """The years (1950–2099) a sentence names."""
    return [int(m.group()) for m in _YEAR.finditer(text, sentence.start, sentence.end)]


def _news_years(text: str, sentence: Sentence) -> list[int]:
    """The years a sentence names, less those in an "after …" phrase of their clause."""
    breaks = [sentence.start, *clause_breaks(text, sentence.start, sentence.end)]
    out = []
    for match in _YEAR.finditer(text, sentence.start, sentence.end):
        clause_start = max(b for b in breaks if b <= match.start())
        after = _AFTER.search(text, clause_start, match.start())
        if after is None or _PERFECT.search(text, sentence.start, after.start()) is None:
            out.append(int(match.group()))
    return out


def names_a_year(text: str, sentence: Sentence | None = None) -> bool:
    """True when the text (or one sentence of it) names a year: the quick test before
    `is_dated_background`."""
    if sentence is None:
        return _YEAR.search(text) is not None
    return _YEAR.search(text, sentence.start, sentence.end) is not None


def reference_year(text: str, published: date | None) -> int | None:
    """The item's year: its publication year, else the latest year it names, else None."""
    if published is not None:
        return published.year
    named = [int(m.group()) for m in _YEAR.finditer(text)]
    return max(named) if named else None


def is_dated_background(text: str, sentence: Sentence, year: int | None) -> bool:
    """True when the sentence recounts an event of a year well before `year`."""
    if year is None:
        return False
    named = _news_years(text, sentence)
    if not named or max(named) > year - BACKGROUND_YEARS:
        return False
    return _PRESENT.search(text, sentence.start, sentence.end) is None
