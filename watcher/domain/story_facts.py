"""The specifics of a news item that tell one event from another written the same way.

Trade-press text is templated: the same frame every day or week, different numbers,
dates and places. Word overlap alone cannot tell Monday's price note from Tuesday's, so
each item's text yields `facts`, small typed values compared slot by slot:

- `MATERIAL`: the elements and minerals named (`watcher.domain.vocabulary`), canonical;
- `COUNTRY`: the countries named, canonical;
- `DAY`: calendar days named ("July 3", "3 July", "Dec. 21", "7月6日", "2025-02-04"), and
  with a publication date the weekdays ("on Monday", "周日") and CJK days named alone
  ("21日") before it; a calendar day names its month too, a weekday not (its month is
  the publication's, not a period the text names);
- `MONTH`: months named without a day ("in May", "5月"), and quarters ("Q2");
- `FIGURE`: numbers with what they count: percentages, tonnages, prices, money, and
  `TONNAGE` the tonnages alone (a quota's, a shipment's, a stockpile's size); "100.8 kt"
  is "100,800 t", "$39m" "$39 million" (m and mn only after a currency or before a
  unit). Figures are kept as written (3,039 t and 3,038 t are two), with their unit
  (`unit_of`: a percentage, tonnes, kilograms, or money of one currency: "64820
  cny"). A figure the text gives as approximate ("over 18,000 tonnes", "about
  9%", "逾1.8万吨", a scale word after two digits: "1.8万", "$1.2 billion") is written
  "~18000 t", and `ROUNDED` holds every figure's roundings to one, two, ... significant
  digits ("~20000 t", "~18000 t", "~18100 t" ... for "18,125 tonnes"): an approximate
  figure matches a figure that rounds to it (`approximated`); so does a figure written
  with fewer decimals ("7,742 t" for "7,742.2 t", "9%" for "8.7%");
- `ORDINAL`: which one of a series: "first batch", "second round", "第二批",
  "Announcement No. 23", "第23号" (Chinese numerals too: "第二十三号" is No. 23); and
  `ORDINAL_YEAR` a batch, round or tranche with the year its sentence gives it ("the
  first batch of 2024 quotas": `batch:1@2024`), and an announcement number with the
  year written next to it ("No. 18 of 2025", "2025年第18号": `no:18@2025`), so that
  the first batch or the No. 1 of one year is not that of another;
- `PLACE`: where: a capitalised name after "in", "at", "near" or "from" ("at Tianjin
  port", "in Ganzhou"), not a country, month or weekday;
- `YEAR`: years named ("2023", "2023年");
- `SIGNAL`: the supply-shock signal types and directions the classifier found, and
  `SIGNAL_TYPE` the types alone;
- `COUNT`: every other number the text names ("eight products", "45 working days",
  "24 prohibited"), without its unit. Counts only make news: another outlet's count is
  a fact it adds, not a sign of another event;
- `SCRIPT`: the writing system of most of the text, "cjk" or "latin" (`script_of`): two
  items in other scripts can only share facts, not words;
- `NAME`: the proper names the text gives (companies, mines, agencies, ports:
  `watcher.domain.story_names`), lower-cased word by word;
- `PUBLISHED`: the item's own publication day, when its source gave one (not a hash:
  the day number, so that two days can be compared; `published_days`).

Each fact is a 32-bit value: its kind in the top 4 bits, a hash of its value below, so
facts travel in the item's sketch beside the word hashes. Pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import date, timedelta
from functools import cache, lru_cache
from itertools import starmap

import ahocorasick
import xxhash

from watcher.domain.folding import is_simplified, simplify
from watcher.domain.story_names import names_of
from watcher.domain.vocabulary import COUNTRIES, ELEMENTS, MINERALS

(
    MATERIAL,
    COUNTRY,
    DAY,
    MONTH,
    FIGURE,
    ORDINAL,
    SIGNAL,
    YEAR,
    SIGNAL_TYPE,
    PLACE,
    PUBLISHED,
    COUNT,
    TONNAGE,
    ORDINAL_YEAR,
    ROUNDED,
) = range(1, 16)
_MEASURED = frozenset({FIGURE, TONNAGE, ROUNDED})  # facts that carry a unit (`unit_of`)
SCRIPT = 0  # the writing system of most of the text: "cjk" or "latin" (`script_of`)
# The proper names the text gives (`watcher.domain.story_names`). The 4 bits of kinds are
# all taken, so a name is a kind-0 value with 01 in its bits 27-26 (a 26-bit hash below):
# neither `SCRIPT` value has those bits, so stored sketches keep their meaning.
NAME = 16
_NAME_SHIFT = 26
NAME_BITS = _NAME_SHIFT  # the bits of a name's hash: a word hashed alike, cut to them, matches
_NAMED = 1
# Not a fact of any text: what a joined item adds to its story when it names nothing new
# but is no copy or rewrite of it (`watcher.domain.story_updates`). A kind-0 value with 10
# in its bits 27-26 (a name has 01, neither `SCRIPT` value has 10 there), read as `SCRIPT`
# by `kind_of`, so no comparison of facts ever counts it; `described` names it.
REWORDED = 2 << _NAME_SHIFT
REWORDED_TEXT = "an account in other words (no copy of the story's reports)"
KINDS = {
    MATERIAL: "material",
    COUNTRY: "country",
    DAY: "day",
    MONTH: "month",
    FIGURE: "figure",
    ORDINAL: "ordinal",
    SIGNAL: "signal",
    YEAR: "year",
    SIGNAL_TYPE: "signal type",
    PLACE: "place",
    PUBLISHED: "published",
    COUNT: "number",
    TONNAGE: "tonnage",
    ORDINAL_YEAR: "batch of year",
    ROUNDED: "rounded",
    SCRIPT: "script",
    NAME: "name",
}
_SHIFT = 28
_LOW = (1 << _SHIFT) - 1

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}


def _starting(first: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`pattern` compiled behind a lookahead for `first`, a character class holding every
    character a match of `pattern` can begin with: the same matches, found about twice as
    fast, since the engine tries the whole pattern only where a match can begin."""
    return re.compile(f"(?=[{first}])(?:{pattern})", flags)


_Tree = dict[str, "_Tree"]  # a prefix tree: each next character, and "" where a word ends


def _prefix_tree(words: Iterable[str]) -> str:
    """An alternation of `words` written as a tree of their common prefixes ("ju(?:ly|ne)"
    for "july|june"): the engine tries each letter once instead of each word. It matches
    what the flat alternation matches where a word boundary follows it (no two of the
    words then match at one place), and prefers the longest word elsewhere."""
    tree: _Tree = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def written(node: _Tree) -> str:
        branches = [re.escape(char) + written(rest) for char, rest in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return written(tree)


_MONTH = _prefix_tree(_MONTHS)  # every use has a word boundary after it
_MONTH_FIRST = "".join(sorted({name[0] for name in _MONTHS}))
_DAY_MONTH = _starting(r"\d", rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\b\.?", re.I)
_MONTH_DAY = _starting(
    _MONTH_FIRST, rf"\b({_MONTH})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![.,]?\d)", re.I
)
# `_YEAR` and `_PLACE` begin with a branch of letters or digits, each followed by what
# was a lookbehind or a word boundary before it (`(?<![\d.,$])`, `\b`), now behind the
# character it consumed: a pattern that begins so is searched for in C, position by
# position, two to three times as fast as one behind a lookahead (`_starting`); the
# matches are the same as those of the forms they replace (tests/test_story_facts_passes.py).
_YEAR = re.compile(
    r"((?:1(?<![\d.,$]1)9|2(?<![\d.,$]2)0)\d\d)(?![\d.,]\d|\s?(?:%|tonnes?|tons?|t\\b))"
)
_CJK_WEEKDAYS = "一二三四五六日"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAME = r"(?:[A-Z][a-z]{2,}[ ]?){1,3}"
_PLACE = re.compile(
    rf"(?:i(?<!\wi)n|a(?<!\wa)t|n(?<!\wn)ear|f(?<!\wf)rom)[ ]+({_NAME})((?:, {_NAME})*)"
)
_NOT_PLACES = frozenset(
    """
    the this that these those its their his her our a an all some
    reuters bloomberg xinhua afp december
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_WEEKDAY = _starting(
    "oel周星",
    r"\b(?:on|late on|early on|last)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|(?:周|星期)([一二三四五六日])",
    re.I,
)
# begun with the "2" it consumes, its word boundary behind it (as `_YEAR`): the same
# matches as `\b(20\d\d)-(\d\d)-(\d\d)\b` behind a lookahead, found by a search for "2" in C
_ISO_DAY = re.compile(r"(2(?<!\w2)0\d\d)-(\d\d)-(\d\d)\b")
_CJK_MONTH_MARK = "月"  # in every match of `_CJK_DAY` and `_CJK_MONTH`: none without it
_CJK_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_CJK_DAY_MARK = "日"  # in every match of `_CJK_BARE_DAY`
# a day of the month alone ("21日宣布"), not after a month ("9月21日": `_CJK_DAY`) nor a
# span ("30日内": within 30 days)
_CJK_BARE_DAY = re.compile(r"(?<![\d.,月])(?<!月\s)(\d{1,2})\s*日(?![内以])")
_CJK_MONTH = re.compile(r"(\d{1,2})\s*月(?!\s*\d{1,2}\s*日)(?:份|中旬|上旬|下旬|底|初)?")
_MONTH_ALONE = _starting(
    "idfsotu", rf"\b(?:in|during|for|since|of|through|until|from)\s+({_MONTH})\b", re.I
)
# Every match of `_DAY_MONTH`, `_MONTH_DAY` and `_MONTH_ALONE` holds a month's name as a
# whole word (`_MONTH_NAME`): found once, each name's matches are tried where they can
# begin (`_month_matches`), instead of three passes over the whole text.
_MONTH_NAME = _starting(_MONTH_FIRST, rf"\b({_MONTH})\b", re.I)
_DAY_BEFORE = 4  # "21st": the most characters of a `_DAY_MONTH` match before its spaces
_WORD_BEFORE = max(map(len, ("in", "during", "for", "since", "of", "through", "until", "from")))


def _month_matches(
    text: str,
) -> tuple[list[re.Match[str]], list[re.Match[str]], list[re.Match[str]]]:
    """The matches of `_DAY_MONTH`, `_MONTH_DAY` and `_MONTH_ALONE` in `text`, each list
    what the pattern's `finditer` gives, from one pass over the text.

    Each match holds a month's name whose start is a match of `_MONTH_NAME` (no two of
    which overlap): a `_MONTH_DAY` match begins there, and a match of the others ends
    there with spaces and, before them, at most `_DAY_BEFORE` (a day) or `_WORD_BEFORE`
    (a preposition) characters, begun where a word begins; the leftmost such match is
    the one `finditer` finds, and no two matches of one pattern overlap (a match holds
    no month's name but its own, and none of its other letters begins a word).
    """
    day_months: list[re.Match[str]] = []
    month_days: list[re.Match[str]] = []
    alone: list[re.Match[str]] = []
    for name in _MONTH_NAME.finditer(text):
        at = name.start()
        if (found := _MONTH_DAY.match(text, at)) is not None:
            month_days.append(found)
        spaces = at
        while spaces and text[spaces - 1].isspace():  # `\s` is `str.isspace`
            spaces -= 1
        if spaces == at:
            continue
        for pattern, reach, group, into in (
            (_DAY_MONTH, _DAY_BEFORE, 2, day_months),
            (_MONTH_ALONE, _WORD_BEFORE, 1, alone),
        ):
            for start in range(max(0, spaces - reach), spaces):
                found = pattern.match(text, start)
                if found is not None and found.start(group) == at:
                    into.append(found)
                    break
    return day_months, month_days, alone


_QUARTER = _starting(
    "qfst第", r"\b(?:q([1-4])|(first|second|third|fourth)[- ]quarter)\b|第([一二三四1-4])季度", re.I
)
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
}
_SERIES = r"batch(?:es)?|round|tranche|quota|allocation|lot"
_ORDINAL = _starting(
    "fst12345",
    rf"\b(first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th)\s+(?:[\w-]+\s+){{0,3}}?({_SERIES})\b",
    re.I,
)
_CJK_NUMERALS = "零〇一二两三四五六七八九十百"
_CJK_ORDINAL = re.compile(rf"第\s*(\d{{1,4}}|[{_CJK_NUMERALS}]{{1,5}})\s*批")
_NUMBERED = _starting("na", r"\b(?:no\.|number|announcement)\s*(\d{1,4})\b", re.I)
_CJK_NUMBERED = re.compile(rf"第\s*(\d{{1,4}}|[{_CJK_NUMERALS}]{{1,5}})\s*号")
_CJK_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CJK_DIGITS.update({"六": 6, "七": 7, "八": 8, "九": 9})


def _numeral(written: str) -> int | None:
    """The number of a batch or announcement written in digits or in Chinese numerals
    below a thousand ("23", "二十三", "一百零五", "十"), or None for another string."""
    if written.isdigit():
        return int(written)
    total, digit = 0, None
    for char in written:
        if char in _CJK_DIGITS:
            digit = _CJK_DIGITS[char]
        elif char in "十百":
            total += (1 if digit is None else digit) * (10 if char == "十" else 100)
            digit = None
        else:
            return None
    return total + (digit or 0)


_NUMBER = r"\d+(?:[.,]\d+)*"
_NUMBER_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "dozen": 12,
}
_FIGURE_BODY = (
    rf"(?:(?P<cur>[$¥€£]|us\$|rmb|usd|cny)\s?)?(?P<num>{_NUMBER})\s?"
    r"(?P<scale>million|billion|bn|mln|mn(?![a-z])|m(?![a-z])|thousand|k(?![a-z])|万|亿)?\s?"
    r"(?P<unit>%|percent|per\s?cent|pct|tonnes?|tons?|(?:(?:wet|dry)\s+)?metric\s+ton(?:ne)?s?|"
    r"[wd]mt|mt|kt|kilo-?tonnes?|"
    r"kilo-?tons?|kg|kilograms?|"
    r"t(?![a-z])|yuan|(?:u\.?s\.?\s?)?dollars?|元|吨|公吨|千克|美元)?"
)
_FIGURE = _starting(r"$¥€£urc\d", _FIGURE_BODY, re.I)
# A figure begins with a letter only where a currency is written in letters before it: in
# a text naming none (`_held`), the pass tries digits and currency signs alone, a
# third of the positions of an English text.
_LETTER_CURRENCIES = ("us$", "rmb", "usd", "cny")
_SIGNED_FIGURE = _starting(r"$¥€£\d", _FIGURE_BODY, re.I)
_SCALES = {
    "million": 6,
    "mln": 6,
    "mn": 6,
    "m": 6,
    "billion": 9,
    "bn": 9,
    "thousand": 3,
    "k": 3,
    "万": 4,
    "亿": 8,
}
_MONEY = frozenset({"cny", "usd", "eur", "gbp"})
_BARE_MILLION = frozenset({"m", "mn"})  # scale words read only after a currency or before a unit
_UNITS = {
    "%": "%",
    "percent": "%",
    "per cent": "%",
    "percent ": "%",
    "pct": "%",
    "tonne": "t",
    "tonnes": "t",
    "t": "t",
    "ton": "t",
    "tons": "t",
    "mt": "t",
    "metric ton": "t",
    "metric tons": "t",
    "metric tonne": "t",
    "metric tonnes": "t",
    "wmt": "t",
    "dmt": "t",
    "吨": "t",
    "公吨": "t",
    "kt": "kt",
    "kilotonne": "kt",
    "kilotonnes": "kt",
    "kilo-tonne": "kt",
    "kilo-tonnes": "kt",
    "kiloton": "kt",
    "kilotons": "kt",
    "kilo-ton": "kt",
    "kilo-tons": "kt",
    "kg": "kg",
    "kilogram": "kg",
    "kilograms": "kg",
    "千克": "kg",
    "yuan": "cny",
    "元": "cny",
    "rmb": "cny",
    "cny": "cny",
    "¥": "cny",
    "dollar": "usd",
    "dollars": "usd",
    "us dollar": "usd",
    "us dollars": "usd",
    "美元": "usd",
    "$": "usd",
    "us$": "usd",
    "usd": "usd",
    "€": "eur",
    "£": "gbp",
}


# Facts made lately, kept (`fact`): items repeat most of theirs (their script, countries,
# materials, the days and figures of a week's notes, a figure's roundings).
FACTS_KEPT = 16384


@lru_cache(maxsize=FACTS_KEPT)
def fact(kind: int, value: str) -> int:
    """The 32-bit fact: `kind` in the top bits, a hash of `value` below; a figure's
    (`FIGURE`, `TONNAGE`, `ROUNDED`) also says its unit (`unit_of`). Remembered
    (`FACTS_KEPT`): a pure function of its arguments."""
    hashed = xxhash.xxh32_intdigest(value.encode("utf-8"))
    if kind == NAME:
        return (_NAMED << _NAME_SHIFT) | (hashed & ((1 << _NAME_SHIFT) - 1))
    if kind in _MEASURED:
        return (
            (kind << _SHIFT)
            | (_UNIT_CODES.get(_unit(value), 0) << _UNIT_SHIFT)
            | (hashed & _UNIT_LOW)
        )
    return (kind << _SHIFT) | (hashed & _LOW)


# A figure's unit, in the 3 bits below its kind: figures are compared unit by unit
# (`unit_of`): two prices in yuan, two percentages; a figure's hash keeps 25 bits.
_UNIT_SHIFT = _SHIFT - 3
_UNIT_LOW = (1 << _UNIT_SHIFT) - 1
_UNIT_CODES = {"%": 1, "t": 2, "kg": 3, "usd": 4, "cny": 5, "eur": 6, "gbp": 7}
PERCENT = _UNIT_CODES["%"]
TONNES = _UNIT_CODES["t"]
PRICES = frozenset(code for unit, code in _UNIT_CODES.items() if unit in _MONEY)
"""The `unit_of` codes of money: a price or a sum in one currency."""


def _unit(value: str) -> str:
    """The unit a figure's readable value ends with ("3039 t", "64820 cny", "5.9%"), or ""."""
    if value.endswith("%"):
        return "%"
    _, _, unit = value.rpartition(" ")
    return unit if unit in _UNIT_CODES else ""


def unit_of(value: int) -> int:
    """The unit code of a figure fact (`FIGURE`, `TONNAGE`, `ROUNDED`): 0 a bare number,
    1 a percentage, 2 tonnes, 3 kilograms, 4 and up money, one code per currency."""
    return (value & _LOW) >> _UNIT_SHIFT


def kind_of(value: int) -> int:
    """The kind of a fact made by `fact`."""
    return value >> _SHIFT or (NAME if value >> _NAME_SHIFT == _NAMED else SCRIPT)


def without_kind(value: int) -> int:
    """A fact made by `fact` less its kind: its unit and hash, what `approximated`
    compares across kinds (a `TONNAGE` and a `ROUNDED` fact of one value are equal here)."""
    return value & _LOW


def signal_fact(signal_type: str, direction: str) -> int:
    """The fact that an item reports `signal_type` in `direction`."""
    return fact(SIGNAL, f"{signal_type}:{direction}")


def facts_of(
    title: str, body: str, when: date | None = None, signals: Iterable[tuple[str, str]] = ()
) -> frozenset[int]:
    """Every fact of an item's text, its (signal type, direction) pairs and its publication
    day `when` (`PUBLISHED`), as 32-bit values."""
    return text_facts(normal_text(title, body), title.count("\n"), when, signals)


def approximated(figures: Iterable[int], roundings: Iterable[int]) -> frozenset[int]:
    """The approximate figures among `figures` (`FIGURE` or `TONNAGE` facts, "~18000 t")
    that one of `roundings` (another item's `ROUNDED` facts) matches: the other item
    names a figure that rounds to it ("18,125 tonnes")."""
    values = {value & _LOW for value in roundings}
    return frozenset(f for f in figures if f & _LOW in values) if values else frozenset()


def published_days(facts: Iterable[int]) -> set[int]:
    """The publication days among `facts` (`PUBLISHED`), as `date.toordinal` numbers."""
    return {f & _LOW for f in facts if kind_of(f) == PUBLISHED}


def _day_value(month: int, day: int) -> str:
    """How a `DAY` fact writes a calendar day before it is hashed: "07-03" (no year)."""
    return f"{month:02d}-{day:02d}"


@cache
def _day_facts() -> dict[int, tuple[int, int]]:
    """Every possible `DAY` fact and the (month, day) it names."""
    return {
        fact(DAY, _day_value(month, day)): (month, day)
        for month in range(1, 13)
        for day in range(1, 32)
    }


def day_fact(day: date) -> int:
    """The `DAY` fact naming the calendar day of `day` (days carry no year)."""
    return fact(DAY, _day_value(day.month, day.day))


def named_dates(facts: Iterable[int], around: date) -> set[date]:
    """The calendar days among `facts` (`DAY`) as dates: each in the year that puts it
    nearest to `around` (the item's publication day; days carry no year)."""
    out = set()
    for value in facts:
        named = _day_facts().get(value) if kind_of(value) == DAY else None
        if named is None:
            continue
        candidates = []
        for year in (around.year - 1, around.year, around.year + 1):
            try:
                candidates.append(date(year, *named))
            except ValueError:  # February 29 of a common year
                continue
        if candidates:
            out.add(min(candidates, key=lambda day: abs(day - around)))
    return out


def normal_text(title: str, body: str) -> str:
    """The text `fact_values` reads: the title and the body a line apart, traditional
    Chinese simplified (`watcher.domain.folding`), then NFKC-normalised."""
    joined = f"{title}\n{body}"
    return normal_of(joined, is_simplified(joined))


def normal_of(joined: str, simple: bool) -> str:
    """`normal_text` of a title and body already `joined` a line apart, `simple` saying
    whether it holds no traditional character (`is_simplified`): for a caller that has
    asked that already."""
    return unicodedata.normalize("NFKC", joined if simple else simplify(joined))


def text_facts(
    text: str,
    title_lines: int,
    when: date | None = None,
    signals: Iterable[tuple[str, str]] = (),
    words: AbstractSet[bytes] | None = None,
) -> frozenset[int]:
    """`facts_of` an item whose `normal_text` is `text` and whose title holds
    `title_lines` line breaks: for a caller that reads the normal text too.

    `words`, for an ASCII text, holds every word of it at least three letters long
    (lower-cased, in bytes), when the caller knows them: a pass whose every match names
    a month or a weekday is skipped where none of them is one (`_NAMED_WORDS`)."""
    values = _text_values(text, title_lines, when, signals, words)
    out = set(starmap(fact, values))  # no Python step a fact: `fact` is remembered, in C
    if when is not None:
        out.add((PUBLISHED << _SHIFT) | when.toordinal())
    return frozenset(out)


def fact_values(
    title: str, body: str, when: date | None = None, signals: Iterable[tuple[str, str]] = ()
) -> set[tuple[int, str]]:
    """Every fact of an item's text as (kind, readable value): what `facts_of` hashes.

    `when` is the item's publication date: a weekday it names ("said on Monday") is
    the last such day on or before it, a `DAY` like any other.
    """
    return _text_values(normal_text(title, body), title.count("\n"), when, signals)


def _text_values(
    text: str,
    title_lines: int,
    when: date | None,
    signals: Iterable[tuple[str, str]],
    words: AbstractSet[bytes] | None = None,
) -> set[tuple[int, str]]:
    """`fact_values` of an item whose `normal_text` is `text`, its title `title_lines`
    line breaks long (`words`: see `text_facts`)."""
    signals = list(signals)
    out = {(SIGNAL, f"{kind}:{direction}") for kind, direction in signals}
    out.update((SIGNAL_TYPE, kind) for kind, _ in signals)
    out.add((SCRIPT, script_of(text)))
    lowered = text.lower()
    materials, countries, held = _actors_held(lowered, _folded(text, lowered))
    if when is not None:
        if words is None:
            weekdays = not held.isdisjoint(_WEEKDAY_WORDS)
        else:
            weekdays = not _NAMED_WORDS[_WEEKDAY].isdisjoint(words)
        for match in _WEEKDAY.finditer(text) if weekdays else ():
            name = match.group(1)
            weekday = (
                _WEEKDAYS.index(_word_key(name)[:3])
                if name
                else "一二三四五六日".index(match.group(2))
            )
            back = (when.weekday() - weekday) % 7
            day = when - timedelta(days=back)
            out.add((DAY, _day_value(day.month, day.day)))
        out.update((DAY, day) for day in _bare_days(text, when))
    out.update((MATERIAL, name) for name in materials)
    out.update((COUNTRY, name) for name in countries)
    if words is None:
        months = not held.isdisjoint(_MONTH_STEMS)
    else:
        months = not _NAMED_WORDS[_MONTH_DAY].isdisjoint(words)
    day_months, month_days, alone = _month_matches(text) if months else ([], [], [])
    iso_days = list(_ISO_DAY.finditer(text))
    cjk_days = list(_CJK_DAY.finditer(text)) if _CJK_MONTH_MARK in text else []
    days = _days(day_months, month_days, iso_days, cjk_days)
    out.update((DAY, _day_value(m, d)) for m, d in days)
    out.update((MONTH, f"{m:02d}") for m, _ in days)  # a calendar day names its month
    day_spans = [m.span() for m in (*day_months, *month_days)]
    for match in alone:
        if not any(a <= match.start(1) < b for a, b in day_spans):
            out.add((MONTH, f"{_MONTHS[_word_key(match.group(1))]:02d}"))
    for match in _CJK_MONTH.finditer(text) if _CJK_MONTH_MARK in text else ():
        if 1 <= int(match.group(1)) <= 12:
            out.add((MONTH, f"{int(match.group(1)):02d}"))
    # an ASCII text without the word "quarter" can name one only as "Q1" to "Q4"
    quarterly = words is None or b"quarter" in words
    gate = _QUARTER_WORDS if quarterly else _QUARTER_WORDS[:4]
    quarters = list(_QUARTER.finditer(text)) if not held.isdisjoint(gate) else []
    for match in quarters:
        number = match.group(1) or match.group(2) or match.group(3)
        out.add((MONTH, f"q{_ORDINALS.get(number.lower(), number)}"))
    year_matches = list(_YEAR.finditer(text))
    years = [(match.start(1), match.group(1)) for match in year_matches]

    def ordinal(value: str, match: re.Match[str], reach: int = 0) -> None:
        """A batch, round or number, alone and with its year (`_year_of`)."""
        out.add((ORDINAL, value))
        out.update((ORDINAL_YEAR, f"{value}@{y}") for y in _year_of(text, match, years, reach))

    series = not (held.isdisjoint(_ORDINAL_WORDS) or held.isdisjoint(_SERIES_WORDS))
    for match in _ORDINAL.finditer(text) if series else ():
        named = match.group(2).lower().rstrip("es") if match.group(2) else ""
        ordinal(f"{named}:{_ORDINALS[_word_key(match.group(1))]}", match)
    for match in _CJK_ORDINAL.finditer(text):
        if (number := _numeral(match.group(1))) is not None:
            ordinal(f"batch:{number}", match)
    numbers = _NUMBERED.finditer(text) if not held.isdisjoint(_NUMBERED_WORDS) else ()
    numbered = (*numbers, *_CJK_NUMBERED.finditer(text))
    for match in numbered:
        if (number := _numeral(match.group(1))) is not None:
            ordinal(f"no:{number}", match, NUMBER_YEAR_REACH)
    figures, roundings, figure_spans = _figures(text, held)
    out.update((FIGURE, figure) for figure in figures)
    out.update((TONNAGE, figure) for figure in figures if figure.endswith(" t"))
    out.update((ROUNDED, rounding) for rounding in roundings)
    # the numbers of days, years, quarters, announcement numbers and figures are not counts
    dated = (*day_months, *month_days, *iso_days, *cjk_days, *year_matches, *quarters)
    taken = [match.span() for match in (*dated, *numbered)] + figure_spans
    out.update((COUNT, count) for count in _counts(text, taken, held))
    out.update((YEAR, year) for _, year in years)
    body_text = text.split("\n", title_lines + 1)[-1]
    out.update((PLACE, place) for place in _places(body_text))
    out.update((NAME, name) for name in names_of(body_text))
    return out


# Words one of which every match of a pattern holds, lower-cased (`folded`): where a text
# holds none, `fact_values` skips the pattern's pass over it (each costs about as much as
# a pass, and most English notes name no quarter, weekday or announcement number).
_MONTH_STEMS = tuple(
    sorted({name[:3] for name in _MONTHS})
)  # `_DAY_MONTH`, `_MONTH_DAY`, `_MONTH_ALONE`
_WEEKDAY_WORDS = ("day", "周", "星期")  # `_WEEKDAY`
# In an ASCII text, the words one of which every match of a pattern holds as a whole word
# (`text_facts` given the text's `words`): the months' names for `_DAY_MONTH`, `_MONTH_DAY`
# and `_MONTH_ALONE` (a stem is in most texts: "market", "may"), the weekdays' for `_WEEKDAY`.
_NAMED_WORDS = {
    _MONTH_DAY: frozenset(name.encode() for name in _MONTHS),
    _WEEKDAY: frozenset(
        name.encode()
        for name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    ),
}
_QUARTER_WORDS = ("q1", "q2", "q3", "q4", "quarter", "季度")  # `_QUARTER`
_ORDINAL_WORDS = tuple(word for word in _ORDINALS if word.isascii())  # `_ORDINAL`, with one of
_SERIES_WORDS = ("batch", "round", "tranche", "quota", "allocation", "lot")  # `_SERIES`
_NUMBERED_WORDS = ("no.", "number", "announcement")  # `_NUMBERED`


# The characters other than ASCII letters that a pattern's ASCII letter matches when it
# ignores case, and that do not lower-case to it: "İ" lower-cases to two characters.
_ASCII_FOLD = str.maketrans({"İ": "i", "ı": "i", "ſ": "s"})


def _folded(text: str, lowered: str) -> str:
    """`text` lower-cased (`lowered`), each `_ASCII_FOLD` character in it first written as
    the ASCII letter it matches: what `_held` reads."""
    if text.isascii() or not any(char in text for char in "İıſ"):
        return lowered
    return text.translate(_ASCII_FOLD).lower()


def _word_key(word: str) -> str:
    """A word a case-insensitive pattern matched ("FİRST", "Frıday"), lower-cased as the
    tables key it: each `_ASCII_FOLD` character first written as its ASCII letter."""
    return word.translate(_ASCII_FOLD).lower()


def _held(folded: str) -> set[str]:
    """The words of every pre-check (`_GATES`) that `folded` holds, found in one pass: a
    pattern ignoring case, each of whose matches holds one of a list's words, may match
    the text only when `not _held(folded).isdisjoint(words)`. `folded` is the text
    lower-cased, each `_ASCII_FOLD` character first written as the ASCII letter it
    matches (`_folded`): so a match's span lower-cases to the words it holds. (One
    automaton pass, `_scanned_terms`, not one `in` per word: those were about a
    twentieth of an item's sketch.)"""
    return _by_mark(_scanned_terms(False).named(folded))["g"]


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# runs of `_CJK_CHAR`: their lengths add up to its matches, found half as dearly (one
# string a run, not one a character)
_CJK_RUN = re.compile(_CJK_CHAR.pattern + "+")
_LATIN_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))


def script_of(text: str) -> str:
    """ "cjk" when the text holds more CJK characters than Latin letters, else "latin":
    two items in other scripts share facts (days, figures, numbers), not words."""
    cjk = 0 if text.isascii() else sum(map(len, _CJK_RUN.findall(text)))
    if not cjk:
        return "latin"
    # Latin letters counted in bytes: the ASCII alone, less its letters (a tenth of
    # a regex scan for [A-Za-z])
    ascii_text = text.encode("ascii", "ignore")
    latin = len(ascii_text) - len(ascii_text.translate(None, _LATIN_LETTERS))
    return "cjk" if cjk > latin else "latin"


# An announcement's year is written next to its number ("No. 70 of 2025", "2025年第18号",
# "[2023] No. 23"); a year further away in its sentence is often another's.
NUMBER_YEAR_REACH = 12
_SENTENCE_END = re.compile(r"[.!?;。！？；\n](?!\d)")


def _year_of(
    text: str, match: re.Match[str], years: list[tuple[int, str]], reach: int = 0
) -> list[str]:
    """The year of a batch, round or announcement number: the year named nearest to
    `match` in its sentence (`years`: each year's offset and value in `text`), and no
    more than `reach` characters from it when `reach` is given; none when there is none.
    """
    start, end = match.span()
    before = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    after = _SENTENCE_END.search(text, end)
    low, high = (before[-1] if before else 0), (after.start() if after else len(text))
    near = [
        (max(0, start - offset, offset - end), year)
        for offset, year in years
        if low <= offset < high and offset != match.start(1)  # not the number itself
    ]
    near = [(distance, year) for distance, year in near if not reach or distance <= reach]
    return [min(near)[1]] if near else []


def _bare_days(text: str, when: date) -> set[str]:
    """The days a CJK text names by their number alone ("21日"), each the last such day
    of a month on or before `when` (the publication day): Chinese wires date an event
    this way in the month they report it."""
    out = set()
    for match in _CJK_BARE_DAY.finditer(text) if _CJK_DAY_MARK in text else ():
        number = int(match.group(1))
        if not 1 <= number <= 31:
            continue
        month = when.replace(day=1)
        if number > when.day:  # last month's day
            month = (month - timedelta(days=1)).replace(day=1)
        try:
            day = month.replace(day=number)
        except ValueError:  # no such day in that month
            continue
        out.add(_day_value(day.month, day.day))
    return out


def _places(body: str) -> set[str]:
    """Capitalised names after "in", "at", "near" or "from" in an item's body: "Tianjin",
    "Mount Weld", and both of "at Gebeng, Kuantan".

    Not in its title (a headline capitalises every word: "No End to Export Restrictions
    in Sight"), nor a name whose first word the body also writes in lower case (a
    quoted title's "Restricted from Export"): places tell events apart (`PLACE`).
    """
    out = set()
    for match in _PLACE.finditer(body):
        # "at Gebeng, Kuantan": a place and the town or region it lies in
        for name in (match.group(1), *match.group(2).split(",")[1:]):
            lowered = name.strip().lower()
            first = lowered.split()[0]
            if first in _NOT_PLACES or first in _MONTHS or first[:3] in _WEEKDAYS:
                continue
            if _written_as_word(first, body):  # a common noun
                continue
            if _actor_terms(latin=True).named(lowered):  # a country or a material (ASCII)
                continue
            out.add(lowered)
    return out


def _written_as_word(word: str, text: str) -> bool:
    """True when `text` holds `word` (which begins and ends with a word character) as a
    whole word: what `re.search(rf"\b{re.escape(word)}\b", text)` finds, by `str.find`
    (a name's first word is mostly absent, and the search scanned the whole body at
    each character: a sixth of an English item's facts)."""
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        before = at and _word_char(text[at - 1])
        if not before and not (end < len(text) and _word_char(text[end])):
            return True
        at = text.find(word, at + 1)
    return False


def _word_char(char: str) -> bool:
    """True for a character `\\w` matches in a `str` pattern: a letter, a digit, "_"."""
    return char.isalnum() or char == "_"


def _days(
    day_months: Iterable[re.Match[str]],
    month_days: Iterable[re.Match[str]],
    iso_days: Iterable[re.Match[str]],
    cjk_days: Iterable[re.Match[str]],
) -> set[tuple[int, int]]:
    """The (month, day) pairs a text names, from its matches of `_DAY_MONTH` ("3 July"),
    `_MONTH_DAY` ("July 3"), `_ISO_DAY` and `_CJK_DAY`, found once by `fact_values`."""
    out: set[tuple[int, int]] = set()
    for match in day_months:
        out.add((_MONTHS[_word_key(match.group(2))], int(match.group(1))))
    for match in month_days:
        out.add((_MONTHS[_word_key(match.group(1))], int(match.group(2))))
    for match in iso_days:
        out.add((int(match.group(2)), int(match.group(3))))
    for match in cjk_days:
        out.add((int(match.group(1)), int(match.group(2))))
    return {(m, d) for m, d in out if 1 <= m <= 12 and 1 <= d <= 31}


def _figures(
    text: str, held: AbstractSet[str] | None = None
) -> tuple[set[str], set[str], list[tuple[int, int]]]:
    """Numbers that count something (a unit, a currency or a scale), normalised, their
    roundings (`ROUNDED`), and the spans of `text` they were read from.

    The value as written and its unit ("%", "t", "kg", or a currency), so "$8.5 billion"
    and "8.5 billion US dollars" are one figure, "18,010 tonnes" and "18,000 tons" two.
    An approximate figure (`_approximate`) is marked "~": "over 18,000 tonnes" is
    "~18000 t". Each figure's roundings are its value to one, two and up to as many
    significant digits as it was written with (at most 8), each marked "~", and a
    figure written without a scale word also rounds, unmarked, to fewer decimals than
    it was written with ("7742.2 t" to "7742 t", "8.7%" to "9%"): an outlet's rounding
    of it (`approximated`). `held` is the text's gate words (`_held`), when known.
    """
    out: set[str] = set()
    roundings: set[str] = set()
    spans: list[tuple[int, int]] = []
    lettered = held is None or not held.isdisjoint(_LETTER_CURRENCIES)
    hedged = held is None or not held.isdisjoint(_HEDGE_WORDS)
    for match in (_FIGURE if lettered else _SIGNED_FIGURE).finditer(text):
        currency, unit, scale = match.group("cur", "unit", "scale")
        if scale and scale.lower() in _BARE_MILLION and not (currency or unit):
            continue  # "3 m" alone is metres or minutes; "$39m" and "12mn tonnes" are millions
        if not (currency or unit or scale):
            continue
        spans.append(match.span())
        figure = _figure_read(match.group("num"), scale or "", unit or currency or "")
        if figure is None:
            continue
        value, its_roundings, digits = figure
        approximate = _approximate(text, match.start("num"), digits, scale, hedged)
        out.add(f"~{value}" if approximate else value)
        roundings.update(its_roundings)
    return out, roundings, spans


# Figures read lately, kept (`_figure_read`): a figure written twice (a headline's in the
# body) is read once, and so is one that items repeat (a template's "10%", "$1 billion").
FIGURES_READ = 4096


@lru_cache(maxsize=FIGURES_READ)
def _figure_read(written: str, scale: str, unit: str) -> tuple[str, tuple[str, ...], int] | None:
    """A figure as `_figures` reads it from its number as `written` ("18,125"), its scale
    word ("" without one) and its unit or currency as written ("tonnes", "US$"): its
    value with its unit ("18125 t", not marked approximate), its roundings, and the
    significant digits it was written with; None for a number that is none ("1.2.3").
    Remembered (`FIGURES_READ`): a pure function of its arguments."""
    number = written.replace(",", "")
    try:
        value = float(number)
    except ValueError:
        return None
    value *= 10.0 ** _SCALES.get(scale.lower(), 0)
    said = " ".join(unit.lower().replace(".", "").split())
    said = said.removeprefix("wet ").removeprefix("dry ")  # "wet metric tonnes"
    what = _UNITS.get(said, "")
    scaled = bool(scale) or what == "kt"
    if what == "kt":  # thousands of tonnes: "100.8 kt" is "100,800 t"
        what, value = "t", value * 1e3
    suffix = f"{'' if what in ('', '%') else ' '}{what}"
    digits = len(number.replace(".", "").strip("0")) or 1
    roundings = [f"~{_rounded(value, q)}{suffix}" for q in range(1, min(digits, 8) + 1)]
    if not scaled:  # "7,742.2 t" is "7,742 t" and "8.7%" "9%" written with fewer decimals
        decimals = len(number.partition(".")[2])
        roundings += [f"{_rounded(round(value, d), PRECISION)}{suffix}" for d in range(decimals)]
    return f"{_rounded(value, PRECISION)}{suffix}", tuple(roundings), digits


# Words before a figure that make it approximate: "over 18,000 tonnes", "约1.8万吨".
_HEDGE = _starting(
    "arnomslcj逾约近超大将",
    r"(?:\b(?:about|around|approximately|roughly|nearly|almost|over|some|more than|"
    r"less than|close to|just under|just over)|逾|约|近|超过|超|大约|将近)\s*"
    r"(?:[$¥€£]|us\$|rmb|usd|cny)?\s?$",
    re.I,
)


# Every match of `_HEDGE` holds one of these: a text holding none (`_held`) needs no
# search before each of its figures (most templated notes hedge none).
_HEDGE_WORDS = (
    *("about", "around", "approximately", "roughly", "nearly", "almost", "over", "some"),
    *("more than", "less than", "close to", "just under", "just over"),
    *("逾", "约", "近", "超过", "超", "大约", "将近"),
)
# The word lists of the pre-checks that `_held` finds in one pass: a pattern ignoring
# case, each of whose matches holds one of a list's words, is run only where the text
# holds one of them.
_GATES = (
    _WEEKDAY_WORDS,
    _MONTH_STEMS,
    _QUARTER_WORDS,
    _ORDINAL_WORDS,
    _SERIES_WORDS,
    _NUMBERED_WORDS,
    _LETTER_CURRENCIES,
    tuple(_NUMBER_WORDS),
    _HEDGE_WORDS,
)


def _approximate(
    text: str, start: int, digits: int, scale: str | None, hedged: bool = True
) -> bool:
    """True when the figure whose number begins at `start` is given as approximate: a
    hedge word before it (`_HEDGE`), or a scale word after two significant digits
    ("1.8万", "$1.2 billion": a rounded value). `hedged` False says the text holds no
    hedge word (`_HEDGE_WORDS`): no search is needed."""
    if scale and digits == 2:
        return True
    return hedged and _HEDGE.search(text, max(0, start - 20), start) is not None


_COUNT = _starting(
    r"\d" + "".join(sorted({word[0] for word in _NUMBER_WORDS})),
    # one word boundary before both (it is "not after a word character" before a digit)
    rf"\b(?:(?<![.,]){_NUMBER}(?![\w.,]?\d)|(?:{'|'.join(_NUMBER_WORDS)})\b)",
    re.I,
)


# `_COUNT` in two passes: a match of one holds only digits and ".," and a match of the
# other only letters, so neither can begin inside the other's and the two find what the
# one alternation finds. The digits' pass tries only digits (a digit first, then what
# `\b(?<![.,])` says of the character before it: a pattern beginning with a character
# class is searched for in C, about twice as fast as one behind a lookahead); the
# words' runs only where the text holds a number word (`_held`; "e", "n", "s" and
# "t", where a word may begin, are a third of an English text's letters).
_DIGIT_COUNT = re.compile(r"\d(?<![\w.,]\d)\d*(?:[.,]\d+)*(?![\w.,]?\d)")
_WORD_COUNT = _starting(
    "".join(sorted({word[0] for word in _NUMBER_WORDS})),
    rf"\b(?:{'|'.join(_NUMBER_WORDS)})\b",
    re.I,
)


def _counts(
    text: str, taken: Iterable[tuple[int, int]], held: AbstractSet[str] | None = None
) -> set[str]:
    """Every number the text names outside the spans `taken`: its days, years, quarters,
    announcement numbers and figures, as `fact_values` found them (`held`: the whole
    text's gate words, `_held`, when known).

    Digits or the English number words ("eight", "dozen"), normalised ("1,200" is
    "1200", "eight" is "8"); not the numbers of figures ("12%", "3,000 tonnes": `FIGURE`).
    """
    pieces, at = [], 0
    for start, end in sorted(taken):
        if start >= at:
            pieces += [text[at:start], " "]
        at = max(at, end)
    text = "".join([*pieces, text[at:]])
    found = _DIGIT_COUNT.findall(text)
    # a number word outside the spans is in the whole text too
    if held is None or not held.isdisjoint(_NUMBER_WORDS):
        found += _WORD_COUNT.findall(text)
    out = set(map(_count_value, found))
    out.discard("")
    return out


# Counts read lately, kept (`_count_value`): items repeat their small numbers.
COUNTS_READ = 4096


@lru_cache(maxsize=COUNTS_READ)
def _count_value(written: str) -> str:
    """A number `_counts` found as `written` ("1,200", "Eight"), normalised ("1200",
    "8"); "" for one that is none ("1.2.3": a version or a reference, not a count).
    Remembered (`COUNTS_READ`): a pure function of its argument."""
    word = written.lower()
    try:
        value = _NUMBER_WORDS.get(word) or float(word.replace(",", ""))
    except ValueError:
        return ""
    return f"{value:g}"


# Figures are compared as written: 3,039 t and 3,038 t are two figures (at three
# significant digits they were one, and two templated notes of one day joined), and
# two would make more coincidences still (17,760 and 17,990 yuan). Fewer digits are
# the roundings an approximate figure is compared with (`approximated`).
PRECISION = 12


def _rounded(value: float, digits: int) -> str:
    """`value` to `digits` significant digits, readable: 18125 → "18100" (3 digits),
    8.5e9 → "8.5 billion"."""
    rounded = float(f"{value:.{digits}g}")
    if rounded < 1e6:  # most figures: no scale word
        return f"{rounded:.{PRECISION}g}"
    for scale, word in ((1e9, " billion"), (1e6, " million")):
        if rounded >= scale:
            return f"{rounded / scale:.{PRECISION}g}{word}"
    return f"{rounded:.{PRECISION}g}"


Term = tuple[str, re.Pattern[str] | None, str]  # a stem, its pattern, its name (`_Terms`)


class _Terms:
    """A table's terms (`_terms`), found in one pass over a text.

    Every term is its stem, a literal, and a pattern: the stem alone in CJK, else the stem
    between word boundaries with an optional plural "s" (or any word characters after a
    stem written with "*"). The automaton finds every occurrence of every stem, overlapping
    ones too, and a term is named where its own pattern matches from an occurrence's start:
    exactly where the pattern alone would find it, since each of its matches begins with
    the stem.
    """

    def __init__(self, terms: Iterable[Term]) -> None:
        by_stem: dict[str, list[tuple[re.Pattern[str] | None, str]]] = {}
        for stem, pattern, name in terms:
            by_stem.setdefault(stem, []).append((pattern, name))
        self._automaton = ahocorasick.Automaton()
        for stem, entries in by_stem.items():
            self._automaton.add_word(stem, (len(stem), tuple(entries)))
        self._automaton.make_automaton()

    def named(self, lowered: str) -> set[str]:
        """The names of the terms the lower-cased text `lowered` names."""
        out: set[str] = set()
        for end, (length, entries) in self._automaton.iter(lowered):
            start = end - length + 1
            for pattern, name in entries:
                if name not in out and (pattern is None or pattern.match(lowered, start)):
                    out.add(name)
        return out


def _terms(table: dict[str, list[str]]) -> _Terms:
    """Each of `table`'s words as a term of its name (`_term_list`)."""
    return _Terms(_term_list(table))


def _term_list(table: dict[str, list[str]]) -> list[Term]:
    """Each of `table`'s words as a (stem, pattern, name) term of its name: a CJK stem as
    it is, any other between word boundaries, with any word characters after it if it
    ends in "*", else an optional plural "s"."""
    out: list[Term] = []
    for name, words in table.items():
        for word in words:
            stem = word.rstrip("*")
            if re.search(r"[\u3400-\u9fff]", stem):
                out.append((stem, None, name))
            else:
                tail = r"\w*" if word.endswith("*") else r"s?"
                out.append((stem, re.compile(rf"\b{re.escape(stem)}{tail}\b"), name))
    return out


# The actors of supply news beyond the classifier's vocabulary (`watcher.domain.vocabulary`):
# the other mined metals and the producing countries, so that two reports of a nickel
# shutdown or a Zimbabwean export ban name their actors as two rare-earth reports do. No
# single CJK character that is also a common word part (金 in 金属, 银 in 银行, 锡 in 无锡),
# nor 蒙古 (in 内蒙古, a Chinese region).
MATERIAL_TABLE: dict[str, list[str]] = {
    **ELEMENTS,
    **MINERALS,
    "REE": ["rare earth*", "稀土"],
    "Ni": ["nickel", "镍"],
    "Cu": ["copper", "铜"],
    "Sn": ["tin", "锡矿", "锡锭", "精锡"],
    "U": ["uranium", "铀"],
    "Mn": ["manganese", "锰"],
    "Al": ["bauxite", "alumina", "铝土矿", "氧化铝"],
    "Ta": ["tantalum", "coltan", "钽"],
    "Nb": ["niobium", "铌"],
    "Zn": ["zinc", "锌"],
    "PGM": ["platinum", "palladium", "铂", "钯"],
}
COUNTRY_TABLE: dict[str, list[str]] = {
    **COUNTRIES,
    "Kazakhstan": ["kazakh*", "哈萨克斯坦"],
    "Zimbabwe": ["zimbabwe*", "津巴布韦"],
    "Chile": ["chile", "chilean", "智利"],
    "Peru": ["peru", "peruvian", "秘鲁"],
    "Gabon": ["gabon*", "加蓬"],
    "Panama": ["panama", "panamanian", "巴拿马"],
    "Philippines": ["philippine*", "filipino", "菲律宾"],
    "Serbia": ["serbia*", "塞尔维亚"],
    "Mali": ["mali", "malian", "马里共和国"],
    "Argentina": ["argentin*", "阿根廷"],
    "Bolivia": ["bolivia*", "玻利维亚"],
    "South Africa": ["south africa*", "南非"],
    "Rwanda": ["rwanda*", "卢旺达"],
    "Namibia": ["namibia*", "纳米比亚"],
    "Mexico": ["mexico", "mexican", "墨西哥"],
    "Germany": ["germany", "german", "德国"],
    "United Kingdom": ["britain", "british", "英国"],
}


@cache
def _material_terms() -> _Terms:
    return _terms(MATERIAL_TABLE)


@cache
def _country_terms() -> _Terms:
    return _terms(COUNTRY_TABLE)


def _countries(lowered: str) -> set[str]:
    """The countries a lower-cased text names (`COUNTRY_TABLE`; `_unnested`)."""
    return _country_terms().named(_unnested(lowered))


_NESTED_NAMES = (("印度尼西亚", "印尼"),)  # (a name holding another's, its own short form)


def _unnested(lowered: str) -> str:
    """`lowered` with each Chinese name that holds another's (印度尼西亚, Indonesia, holds
    印度, India) written in its own short form, so that it names its own country only."""
    for long, short in _NESTED_NAMES:
        if long in lowered:
            lowered = lowered.replace(long, short)
    return lowered


def _actor_table() -> dict[str, list[str]]:
    """`MATERIAL_TABLE` and `COUNTRY_TABLE` as one table, each name marked by its table's
    letter ("mNi", "cChile")."""
    tables = {"m": MATERIAL_TABLE, "c": COUNTRY_TABLE}
    return {mark + name: words for mark, table in tables.items() for name, words in table.items()}


@cache
def _actor_terms(latin: bool = False) -> _Terms:
    """`MATERIAL_TABLE` and `COUNTRY_TABLE` in one automaton (`_actor_table`): one pass
    over a text instead of two. `latin`: those a text without CJK can name (`_latin_terms`)."""
    return _Terms(_latin_terms(_term_list(_actor_table()), latin))


@cache
def _scanned_terms(latin: bool) -> _Terms:
    """`_actor_terms` and the gate words (`_GATES`) in one automaton, each gate word a
    term of its own, marked "g", found wherever the text holds it (as `_held` finds
    it): the text's actors and gate words in one pass (`_actors_held`). `latin`: those
    a text without CJK can name (`_latin_terms`)."""
    gates = [(word, None, "g" + word) for words in _GATES for word in words]
    return _Terms(_latin_terms([*_term_list(_actor_table()), *gates], latin))


def _latin_terms(terms: list[Term], latin: bool) -> list[Term]:
    """`terms`, only those whose stem holds no CJK character (`_CJK_CHAR`) when `latin`:
    all the terms a text without CJK can name. An automaton tries each of a state's next
    characters in turn, and the CJK stems' first characters were most of its first
    state's (a third of an English item's story facts went on the two passes for actors
    and gate words)."""
    return [term for term in terms if not _CJK_CHAR.search(term[0])] if latin else terms


def _actors(lowered: str) -> tuple[set[str], set[str]]:
    """The materials (`MATERIAL_TABLE`) and the countries (`_countries`) a lower-cased text
    names, found in one pass (no material's name shares a character with a nested
    country name's long form, so `_unnested` changes none)."""
    found = _by_mark(_actor_terms().named(_unnested(lowered)))
    return found["m"], found["c"]


def _actors_held(lowered: str, folded: str) -> tuple[set[str], set[str], set[str]]:
    """`_actors(lowered)` and `_held(folded)`: in one pass (`_scanned_terms`) where both
    read one text (`folded` is `lowered`, which names no nested country: most texts)."""
    if folded is not lowered or _unnested(lowered) is not lowered:
        return (*_actors(lowered), _held(folded))
    latin = lowered.isascii() or _CJK_CHAR.search(lowered) is None
    found = _by_mark(_scanned_terms(latin).named(lowered))
    return found["m"], found["c"], found["g"]


def _by_mark(marked: Iterable[str]) -> dict[str, set[str]]:
    """Names marked by their first letter ("mNi", "cChile", "gday"), unmarked, by mark
    ("m", "c" and "g" always there)."""
    found: dict[str, set[str]] = {"m": set(), "c": set(), "g": set()}
    for name in marked:
        found[name[0]].add(name[1:])
    return found


def described(
    title: str,
    body: str,
    wanted: Iterable[int],
    when: date | None = None,
    signals: Iterable[tuple[str, str]] = (),
) -> str:
    """The facts among `wanted` of an item's text, readable: "figure 12%; material Ga";
    `REWORDED` among them is named last (`REWORDED_TEXT`)."""
    chosen = set(wanted)
    found = {
        (kind, value)
        for kind, value in fact_values(title, body, when, signals)
        if fact(kind, value) in chosen
    }
    out = [f"{KINDS[kind]} {value}" for kind, value in sorted(found)]
    if REWORDED in chosen:
        out.append(REWORDED_TEXT)
    return "; ".join(out)
