"""A quota's size against the prior period's, read from figures in separate sentences.

SIGNALS.md: a production quota "smaller than the prior period" is quota_delay tightening,
one "raised against the prior period" is easing, and a routine issue that states no
change is no signal. Reports often state the change only through the figures, each in a
sentence of its own: "The 2026 rare earth mining quota is 120,000 tonnes. In 2025 the
quota was 270,000 tonnes." (2026年第一批指标为15万吨。2025年第一批为13.5万吨。) No word of
either sentence says "cut" or "raised", so the vocabulary cannot see it.

`quota_change` reads, in the sentences that name a quota, each sentence's period (the
one year it names, or "this year" / "last year", 今年 / 去年, against the item's year) and
batch (first, second, third batch, 第一批 … ; none for a whole year), and the amount it
gives in tonnes. The sentence of the latest period is compared with the sentence of
the latest earlier period of the same batch (a first batch is not compared with a whole
year), when the two do not name different minerals: a smaller amount is a cut, a larger
one a raise. The engine adds the result to the current sentence as the rule
vocabulary's change concept (`CHANGE_DOWN`, `CHANGE_UP`), so the quota rule fires and
takes its direction from it as from "down 12 %" written out. A sentence that names two
periods, two batches, or no amount or several (mining and smelting, rock and clay ore) is
left out: which figure is whose would be a guess. An item that states a change in words
anywhere ("12.5 % higher", 同比增长) is left to the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from watcher.classify.background import years_of
from watcher.classify.text import Sentence
from watcher.domain.items import Direction

# the concept names of the rule vocabulary (config/rules.yaml) this reader works with
QUOTA = "quota"
CHANGE_UP = "change_up"
CHANGE_DOWN = "change_down"
# a sentence that already states the change in words keeps its own reading
STATED = frozenset({CHANGE_UP, CHANGE_DOWN, "quota_cut", "quota_raise"})
ELEMENT = "element:"
RARE_EARTHS = "rare earths"
_RARE_EARTHS = re.compile(r"(?i:rare[- ]earth)|稀土")
TOLERANCE = 0.005  # a relative difference below this is the same figure, rounded

_AMOUNT = re.compile(
    # the first digit opens the pattern (a leading look-behind would be tried at every
    # offset of the sentence), and is then checked to start the number
    r"(\d(?<![\d.,]\d)(?:\d{0,2}(?:,\d{3})+|\d*(?:\.\d+)?))\s*"
    r"(?:(?P<scale>million|mln|thousand|mn|k(?=t\b)|M(?=t\b)|万|萬|千|亿|億)\s*)?"
    r"(?:(?i:wet|dry)\s+)?"
    r"(?:(?i:metric\s+)?(?i:tonnes|tonne|tons|ton)\b|(?i:mt|wmt|dmt|t)\b|吨|噸)"
)
_SCALES = {
    "million": 1e6,
    "mln": 1e6,
    "mn": 1e6,
    "M": 1e6,
    "thousand": 1e3,
    "k": 1e3,
    "千": 1e3,
    "万": 1e4,
    "萬": 1e4,
    "亿": 1e8,
    "億": 1e8,
}
_THIS_YEAR = re.compile(r"\b(?i:this year|the current year)\b|今年|本年度|当年|當年")
_LAST_YEAR = re.compile(
    r"\b(?i:last year|a year (?:earlier|ago|before)|the (?:previous|prior|preceding) year"
    r"|year[- ]earlier)\b|去年|上年|上一年|前一年"
)
# a figure set against another: "12 Mt, compared with 42 Mt", "versus", 而, 较, 比
_COMPARED = re.compile(
    r"\b(?i:compared (?:with|to)|against|versus|vs\.?|from|than|while|whereas)\b|较|較|而|比|相比"
)
_BATCH = re.compile(
    r"\b(?i:(first|second|third|fourth)\s+(?:batch|round|tranche))\b|第([一二三四])批|(首)批"
)
_WHOLE_YEAR = re.compile(r"\b(?i:whole|full|entire|annual|full-year)\b|全年")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "一": 1, "二": 2, "三": 3, "四": 4}


class Figure(NamedTuple):
    """A quota figure: its sentence, period (a year), batch (0: the whole year), amount
    in tonnes and where the amount stands in the text."""

    sentence: int
    period: int
    batch: int
    tonnes: float
    start: int
    end: int


class Change(NamedTuple):
    """A quota figure compared with the prior period's: the sentence and span of the
    current amount, and the change concept it reads as (`CHANGE_UP` or `CHANGE_DOWN`)."""

    sentence: int
    start: int
    end: int
    concept: str


def quota_change(
    text: str,
    sentences: Sequence[Sentence],
    keys: Sequence[set[str]],
    year: Callable[[], int | None],
    labels: set[str] | None = None,
) -> Change | None:
    """The change the item's quota figures show against the prior period (see the
    module's docstring), or None. `text` is the folded item text, `keys` the concepts each
    sentence holds (`labels` their union, when known), `year()` the item's reference year
    (for "this year", "last year"), asked for only when a quota sentence gives an amount."""
    if not STATED.isdisjoint(set().union(*keys) if labels is None else labels):
        return None  # the item states the change in words: the vocabulary reads it
    amounts = {
        index: found
        for index, held in enumerate(keys)
        if QUOTA in held
        for found in [list(_AMOUNT.finditer(text, sentences[index].start, sentences[index].end))]
        if found
    }
    if not amounts:
        return None
    reference = year()
    for index, found in amounts.items():
        if len(found) == 2:
            change = _compared(text, sentences[index], index, found, reference)
            if change is not None:
                return change
    figures = [
        figure
        for index, found in amounts.items()
        if len(found) == 1
        for figure in [_figure(text, sentences[index], index, found[0], reference)]
        if figure is not None
    ]
    if len(figures) < 2:
        return None

    def minerals(figure: Figure) -> set[str]:
        return _minerals(text, sentences[figure.sentence], keys[figure.sentence])

    latest = max(f.period for f in figures)
    current = next(f for f in figures if f.period == latest)
    earlier = [
        f
        for f in figures
        if f.period < latest
        and f.batch == current.batch
        and _same_minerals(minerals(f), minerals(current))
    ]
    if not earlier:
        return None
    prior = max(earlier, key=lambda f: (f.period, -f.sentence))
    if prior.tonnes <= 0 or abs(current.tonnes / prior.tonnes - 1) < TOLERANCE:
        return None
    concept = CHANGE_DOWN if current.tonnes < prior.tonnes else CHANGE_UP
    return Change(current.sentence, current.start, current.end, concept)


def _compared(
    text: str, sentence: Sentence, index: int, amounts: list[re.Match[str]], year: int | None
) -> Change | None:
    """The change one sentence states by setting its quota figure against an earlier
    one ("12 Mt, compared with 42 Mt in 2025", 15万吨，而2025年为13.5万吨), or None: its two
    `amounts`, a comparison word between them, and after it an earlier period than any
    the sentence names before it (or "last year", 去年)."""
    first, second = amounts
    if _COMPARED.search(text, first.end(), second.start()) is None:
        return None
    before = Sentence(sentence.start, first.end())
    after = Sentence(first.end(), sentence.end)
    if _LAST_YEAR.search(text, after.start, after.end) is None:
        then = years_of(text, after)
        now = years_of(text, before) or ([year] if year is not None else [])
        if not (then and now) or max(then) >= min(now):
            return None  # no earlier period named after the comparison
    batch = _batches(text, before) or {0}
    if batch != (_batches(text, after) or ({0} if _WHOLE_YEAR.search(text, *after) else batch)):
        return None  # a batch against a whole year, or against another batch
    current, prior = _tonnes(first), _tonnes(second)
    if prior <= 0 or abs(current / prior - 1) < TOLERANCE:
        return None
    concept = CHANGE_DOWN if current < prior else CHANGE_UP
    return Change(index, first.start(), first.end(), concept)


def _tonnes(amount: re.Match[str]) -> float:
    """The tonnes an `_AMOUNT` match gives."""
    return float(amount.group(1).replace(",", "")) * _SCALES.get(amount.group("scale") or "", 1.0)


def _figure(
    text: str, sentence: Sentence, index: int, amount: re.Match[str], year: int | None
) -> Figure | None:
    """The sentence's quota figure (its one `amount`), or None when it names no single
    period or batch (a sentence with several amounts is a breakdown: mining and smelting,
    rock and clay ore)."""
    periods = set(years_of(text, sentence))
    if year is not None:
        if _THIS_YEAR.search(text, sentence.start, sentence.end):
            periods.add(year)
        if _LAST_YEAR.search(text, sentence.start, sentence.end):
            periods.add(year - 1)
    if len(periods) != 1:
        return None
    batches = _batches(text, sentence)
    if len(batches) > 1:
        return None
    batch = batches.pop() if batches else 0
    return Figure(index, periods.pop(), batch, _tonnes(amount), amount.start(), amount.end())


def _batches(text: str, sentence: Sentence) -> set[int]:
    """The batches (1: the first, …) a sentence or part of one names."""
    return {
        _ORDINALS.get((m.group(1) or m.group(2) or "一").lower(), 1)
        for m in _BATCH.finditer(text, sentence.start, sentence.end)
    }


def _minerals(text: str, sentence: Sentence, held: set[str]) -> set[str]:
    """The minerals a sentence names: its element entities, and rare earths as a group
    (no element entity stands for them)."""
    found = {k for k in held if k.startswith(ELEMENT)}
    if _RARE_EARTHS.search(text, sentence.start, sentence.end):
        found.add(RARE_EARTHS)
    return found


def _same_minerals(a: set[str], b: set[str]) -> bool:
    """False when both sentences name minerals and none in common (tungsten's quota is
    no prior figure for rare earths')."""
    return not (a and b) or not a.isdisjoint(b)


# a change of an amount stated as a noun phrase against the prior period, which the
# vocabulary's "12 % higher" forms miss: "an increase of 2.7 percent from last year",
# "a cut of 10% on the previous year"
_STATED_CHANGE = re.compile(
    r"\b(?:(?P<up>increase|rise|gain|growth|jump)|(?P<down>decrease|decline|drop|fall|cut|reduction))"
    r"\s+of\s+(?:about\s+|around\s+|nearly\s+|almost\s+|some\s+)?\d[\d.,]*\s*(?:%|percent|per cent)"
    r"\s+(?:from|over|on|against|compared (?:with|to))\s+(?:the\s+)?"
    r"(?:last|previous|prior|preceding|a)\s+year\b",
    re.IGNORECASE,
)
# the words that name a quota or licensed volume in a trigger: the change is its size
_QUOTA_WORD = re.compile(r"quota|配额|配額|限额|限額", re.IGNORECASE)


def stated_change(text: str, start: int, end: int) -> Direction | None:
    """The direction of a quota's size change the sentence text[start:end] states against
    the prior period in a `_STATED_CHANGE` phrase (up: easing, down: tightening), or
    None."""
    found = _STATED_CHANGE.search(text, start, end)
    if found is None:
        return None
    return Direction.EASING if found.group("up") else Direction.TIGHTENING


def names_quota(text: str, spans: Sequence[tuple[int, int, str]]) -> bool:
    """True when one of the matched `spans` (start, end, concept) is a quota word."""
    return any(_QUOTA_WORD.search(text, span[0], span[1]) is not None for span in spans)
