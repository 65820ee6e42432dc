"""The proper names an item's text gives: companies, mines, projects, agencies, ports.

Two notices of one template differ in the company named where the other names another:
in one frame, a name each item gives and the other lacks sets them apart
(`watcher.domain.stories`). Shared names alone are not evidence of one event: a company
and its mine are named in every report of its series. `names_of` finds such names in
Latin-script text the way a reader spots them: words written with a capital that are not
common words. A word is common when the text also writes it in lower case ("The Mine
workers", "the mine") or when it is in `_GENERIC` (function words, titles,
institutions, company suffixes, outlets, calendar words, heads of state who speak on
every event). Countries and materials are facts of their own
(`watcher.domain.story_facts`) and are left out. Names are read from the body alone
(title case capitalises every word, and another outlet retitles). A word in capitals is a
name only among words that are not and as short as an acronym ("IREL", "CATL"), not
in a shouted headline or a dateline ("KUALA LUMPUR", "KINSHASA -"). Chinese names
are not read. Pure functions.
"""

from __future__ import annotations

import re
from functools import cache

from watcher.domain.vocabulary import CASED_COUNTRIES, COUNTRIES, ELEMENTS, MINERALS

# a capital not inside a word ("McLeod", "O'Brien", "x-Ray"): the capital first, the look
# behind only where one is (twice as fast as the look behind first)
_CAPITALISED = re.compile(r"[A-Z](?<![\w'’&.-][A-Z])[A-Za-z0-9]*(?:-[A-Z][A-Za-z0-9]*)*")
_SENTENCE_ENDS = ".!?:;\n"  # the word after one of these opens a sentence
# endings of English words: a word opening a sentence with one is not read as a name
# ("Determining", "Operators", "Special"); a name opening one mostly has none ("Vale")
_WORDLIKE = tuple(
    "ing ed tion sion ment ments ness ity ies ers ors al ive ous ions ance ence ly es ic".split()  # noqa: SIM905 (a word list reads better as text)
)
ACRONYM = 5  # longer words in capitals are a dateline ("KINSHASA -") or a shout, not a name
MIN_LENGTH = 3  # shorter words are names only in capitals ("MP", "UN": too few to tell)

_GENERIC = frozenset(
    """
    the a an this that these those its their his her our it he she they we you i
    in on at for and but or as by with from of to after before while under over
    according however meanwhile also if when where what which who why how not no
    new one two three all some any more most other such than then there here
    president prime minister ministry minister's ministers secretary chairman chief
    executive officer ceo cfo director directors board spokesperson spokesman
    spokeswoman official officials deputy vice governor mayor premier king queen
    commerce customs administration general department agency bureau office
    council commission committee court supreme high parliament senate congress
    house government state states national federal republic people peoples affairs
    trade industry industrial information technology resources resource mining
    mines mine minerals mineral metals metal energy development corporation corp
    company co ltd inc group holdings holding limited plc llc sa ag nv bv
    international global exchange securities stock market markets news times post
    daily weekly monthly journal herald tribune review press wire
    reuters bloomberg xinhua afp ap cnn bbc cnbc dpa kyodo bernama tass ria
    financial economic economy business finance bank fund capital investment
    north south east west northern southern eastern western central
    province provincial region regional territory island islands river lake
    port city county district valley mountain
    january february march april may june july august september october
    november december jan feb mar apr jun jul aug sep sept oct nov dec
    monday tuesday wednesday thursday friday saturday sunday
    q1 q2 q3 q4 h1 h2 fy
    ministry's court's government's company's
    law act bill decree regulation regulations rules rule policy order
    announcement notice statement release report update quarterly annual
    first second third fourth fifth last next
    mr mrs ms dr st
    usd cny eur gbp rmb yuan dollar dollars
    dual use export exports import imports control controls ban bans
    rare earth earths
    authority authorities regulatory regulator oversight strategic substances
    institute association federation union organisation organization society
    trump donald biden joe xi jinping putin vladimir obama
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


@cache
def _known_words() -> frozenset[str]:
    """Country and material names and their terms, lower-cased, word by word: facts of
    their own kinds, not names here."""
    out = set(_GENERIC)
    for table in (COUNTRIES, CASED_COUNTRIES, ELEMENTS, MINERALS):
        for name, terms in table.items():
            for written in (name, *terms):
                out.update(re.findall(r"[a-z0-9]+", written.rstrip("*").lower()))
    return frozenset(out)


def names_of(text: str) -> set[str]:
    """The proper names `text` gives (lower-cased words: "alphamin", "bisie", "irel"),
    each word of a multi-word name apart, common words, countries and materials left out."""
    words = text
    known = _known_words()
    out: set[str] = set()
    matches = list(_CAPITALISED.finditer(words))
    for place, match in enumerate(matches):
        word = match.group(0)
        key = word.lower()
        if key in known or key in out or _written_lower(key, text):
            continue
        if word.isupper() and len(word) > 1:
            keep = len(word) <= ACRONYM and not _shouted(matches, place, words)
        else:
            keep = len(word) >= MIN_LENGTH and not (
                key.endswith(_WORDLIKE) and _opens_sentence(words, match.start())
            )
        if keep:
            out.add(key)
    return out


def _opens_sentence(text: str, start: int) -> bool:
    """True when the word at `start` opens the text or a sentence of it."""
    before = text[max(0, start - 4) : start].rstrip(" ")
    if not before:
        return start < 4
    return before[-1] in _SENTENCE_ENDS


def _written_lower(key: str, text: str) -> bool:
    """True when `text` writes the word `key` in lower case ("mine" beside "Mine")."""
    start = text.find(key)
    while start >= 0:
        end = start + len(key)
        if (start == 0 or not text[start - 1].isalpha()) and (
            end == len(text) or not text[end].isalpha()
        ):
            return True
        start = text.find(key, end)
    return False


def _shouted(matches: list[re.Match[str]], place: int, text: str) -> bool:
    """True when the word in capitals at `place` stands next to another word in capitals
    (a headline in capitals, "KUALA LUMPUR"), not alone among other words."""
    for other in (place - 1, place + 1):
        if 0 <= other < len(matches):
            near = matches[other]
            gap = text[
                min(near.end(), matches[place].end()) : max(near.start(), matches[place].start())
            ]
            if near.group(0).isupper() and len(near.group(0)) > 1 and len(gap.strip(" ,")) == 0:
                return True
    return False
