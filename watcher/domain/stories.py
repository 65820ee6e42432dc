"""Story clustering: near-duplicate items from different sources belong to one story.

Each item gets a `Sketch`: bottom-k sketches (the k smallest 32-bit hashes) of two sets,
its word 3-shingles (catch copies: syndication, reprints, trimmed teasers) and its
content words (catch rewrites: the same names, numbers and facts in other sentences).
From two sketches we estimate the Jaccard index and the containment of the smaller set
in the larger; with the facts each item names (`watcher.domain.story_facts`) they
decide `same_story`: positive evidence of one event and no contradicting specific. A
new item joins the story of the most similar earlier item of another source within the
time window.

Comparing a new item with every earlier one costs O(items²); instead each item is
indexed under a few keys (`index_keys`: the smallest hashes of its two sets, so two
items of one story very likely share some) and only items sharing at least
`MIN_SHARED_KEYS` keys are compared (`shortlist`, at most `SHORTLIST` of them). A key
filed under many items (a stock phrase of the trade press, a template's frame) tells
none apart: it is `hot` and left out, so a lookup costs at most `HOT_ITEMS` postings
per key whatever the shape of the data.

Chinese and Japanese text has no spaces: each CJK character is a token (except one
written straight after Latin letters, which ends their token: "abc中" is one) and
character bigrams are its content words. Pure functions; the store keeps the sketch on the item.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import struct
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, AnyStr

import xxhash

from watcher.domain import story_updates
from watcher.domain.folding import is_simplified, simplify
from watcher.domain.story_facts import (
    COUNTRY,
    DAY,
    FIGURE,
    KINDS,
    MATERIAL,
    MONTH,
    NAME,
    ORDINAL,
    ORDINAL_YEAR,
    PERCENT,
    PLACE,
    PRICES,
    PUBLISHED,
    ROUNDED,
    SCRIPT,
    SIGNAL,
    SIGNAL_TYPE,
    TONNAGE,
    TONNES,
    YEAR,
    approximated,
    day_fact,
    fact,
    kind_of,
    named_dates,
    normal_of,
    published_days,
    text_facts,
    unit_of,
    without_kind,
)

K = 128
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|\d+(?:[.,]\d+)*|[^\W\d_]+")
# `_TOKEN` on lower-cased ASCII text, where it can match nothing else: twice as fast
_ASCII_TOKEN = re.compile(r"[a-z]+|[0-9]+(?:[.,][0-9]+)*")
_ASCII_BYTES_TOKEN = re.compile(rb"[a-z]+|[0-9]+(?:[.,][0-9]+)*")  # `_ASCII_TOKEN` in bytes
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d)")  # a comma between digits; "," first: a fast scan
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# CJK characters that are tokens of their own, one after another in tokens joined by "\x00"
_CJK_RUN = re.compile(rf"(?<![^\x00])(?:{_CJK.pattern})(?:\x00{_CJK.pattern})*(?![^\x00])")
_STOP = frozenset(
    """
    a about above after again against all also am an and any
    are as at be because been before being below between both but
    by can could did do does doing down during each few for
    from further had has have having he her here hers him his
    how i if in into is it its itself just more most
    my no nor not now of off on once only or other
    our out over own same she should so some such than that
    the their them then there these they this those through to too
    under until up very was we were what when where which while
    who whom why will with would you your said says say according
    per cent percent year week month new told reported report reports last
    first week's
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_STOP_BYTES = frozenset(word.encode() for word in _STOP)
# Every ASCII token of one or two letters (`_ASCII_BYTES_TOKEN`): what `content_words`
# leaves out of an ASCII text beside its stop words (its numbers are all kept)
_SHORT_BYTES = frozenset(
    bytes(letters)
    for first in range(ord("a"), ord("z") + 1)
    for letters in ((first,), *((first, second) for second in range(ord("a"), ord("z") + 1)))
)
_LEFT_OUT_BYTES = _STOP_BYTES | _SHORT_BYTES


class Sketch:
    """The fingerprint of one item's text: bottom-k hashes and true sizes of two sets.

    Immutable, compared and hashed by value. A sketch read back from storage
    (`decode_sketch`) or just made (`sketch_text`) builds its hash sets (`shingles`,
    `words`, `title_words`) only when first asked for them: a comparison that a
    contradicting fact settles reads `facts` alone, and most candidates of a poll end
    there; an item's own sketch is mostly only keyed and encoded.
    """

    __slots__ = (
        "_bars",
        "_ordered",
        "_packed",
        "_sets",
        "by_kind",
        "facts",
        "shingle_count",
        "word_count",
    )

    def __init__(
        self,
        shingles: frozenset[int],
        shingle_count: int,
        words: frozenset[int],
        word_count: int,
        title_words: frozenset[int],  # kept in the stored format; titles are not evidence
        facts: frozenset[int] = frozenset(),
    ) -> None:
        self.shingle_count = shingle_count
        self.word_count = word_count
        self.facts = facts
        self._sets: list[frozenset[int] | None] = [shingles, words, title_words]
        self._packed: tuple[bytes, tuple[int, int, int, int]] | None = None
        self.by_kind: Mapping[int, frozenset[int]] = facts_by_kind(facts)
        """`facts` by kind (`kind_of`), made once: comparisons ask for one kind at a time."""
        self._bars: int | None = None
        self._ordered: tuple[tuple[int, ...], ...] | None = None

    @classmethod
    def _sorted_in(
        cls,
        ordered: tuple[tuple[int, ...], ...],
        counts: tuple[int, int],
        facts: frozenset[int] | None = None,
    ) -> Sketch:
        """The sketch of four sorted sets (shingles, words, title words, facts), each a
        tuple of distinct values in order, and its (shingle, word) counts: kept in order
        for `index_keys` and `encode_sketch`, which would sort them again (`facts`: the
        facts as a set, when the caller has it). Its hash sets and `by_kind` are made on
        first use (`__getattr__`): an item's own sketch is mostly only keyed and encoded."""
        sketch = cls.__new__(cls)
        sketch.shingle_count, sketch.word_count = counts
        sketch.facts = frozenset(ordered[3]) if facts is None else facts
        sketch._sets = [None, None, None]
        sketch._packed = None
        sketch._bars = None
        sketch._ordered = ordered
        return sketch

    if not TYPE_CHECKING:  # hidden from mypy, which would accept any attribute name

        def __getattr__(self, name: str) -> Mapping[int, frozenset[int]]:
            """`by_kind` of a made sketch (`_sorted_in`), grouped when first read; called
            only while that slot is unset, so reading a set slot costs nothing more."""
            if name != "by_kind":
                raise AttributeError(name)
            by_kind = facts_by_kind(self._in_order(3))
            self.by_kind = by_kind
            return by_kind

    def _in_order(self, which: int) -> Sequence[int]:
        """Set `which` (0 shingles, 1 words, 2 title words, 3 facts) sorted."""
        if self._ordered is not None:
            return self._ordered[which]
        return sorted(self.facts if which == 3 else self._set(which))

    @classmethod
    def _packed_in(
        cls, data: bytes, bounds: tuple[int, int, int, int], shingle_count: int, word_count: int
    ) -> Sketch:
        """The sketch whose four sets (shingles, words, title words, facts) are the
        little-endian 32-bit values of `data` after `_HEADER`, ending at `bounds`
        (counted in values; `data` holds them all); the facts are read now, the rest on
        first use."""
        sketch = cls.__new__(cls)
        sketch.shingle_count = shingle_count
        sketch.word_count = word_count
        facts = _values(data, bounds[2], bounds[3])  # stored in order (`encode_sketch`)
        sketch.facts = frozenset(facts)
        sketch._sets = [None, None, None]
        sketch._packed = (data, bounds)
        sketch.by_kind = facts_by_kind(facts)
        sketch._bars = None
        sketch._ordered = None
        return sketch

    @property
    def bars(self) -> int:
        """`bar_mask` of its facts, made once (a poll files it and looks up by it)."""
        if self._bars is None:
            self._bars = bar_mask(self.by_kind)
        return self._bars

    def _set(self, which: int) -> frozenset[int]:
        found = self._sets[which]
        if found is None:
            if self._ordered is not None:  # a made sketch (`_sorted_in`)
                found = frozenset(self._ordered[which])
            else:
                assert self._packed is not None  # else a packed one (`_packed_in`)
                data, bounds = self._packed
                found = frozenset(_values(data, bounds[which - 1] if which else 0, bounds[which]))
            self._sets[which] = found
        return found

    @property
    def shingles(self) -> frozenset[int]:
        """The `K` smallest hashes of the item's word 3-shingles."""
        return self._set(0)

    @property
    def words(self) -> frozenset[int]:
        """The `K` smallest hashes of the item's content words."""
        return self._set(1)

    @property
    def title_words(self) -> frozenset[int]:
        """The hashes of its title's content words (stored; titles are not evidence)."""
        return self._set(2)

    def _key(self) -> tuple[object, ...]:
        return (
            self.shingles,
            self.shingle_count,
            self.words,
            self.word_count,
            self.title_words,
            self.facts,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sketch) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Sketch(shingles={self.shingles!r}, shingle_count={self.shingle_count!r},"
            f" words={self.words!r}, word_count={self.word_count!r},"
            f" title_words={self.title_words!r}, facts={self.facts!r})"
        )

    def of_kind(self, kind: int) -> frozenset[int]:
        """The facts of one kind (empty when it names none)."""
        return self.by_kind.get(kind, _NONE)


def facts_by_kind(facts: Iterable[int]) -> dict[int, frozenset[int]]:
    """`facts` grouped by kind (`kind_of`): a fact's kind is its top bits, so the facts
    in order come kind by kind."""
    ordered = facts if isinstance(facts, tuple) else sorted(facts)
    return {kind: frozenset(group) for kind, group in itertools.groupby(ordered, kind_of)}


_NONE: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier item that a new one may join: its story, source, time and sketch."""

    story_id: int
    source: str
    when: datetime
    sketch: Sketch


def tokens(text: str) -> list[str]:
    """Lower-cased word, number and CJK-character tokens; `3,000` and `3000` are one, and
    traditional Chinese characters are written simplified (`watcher.domain.folding`)."""
    return _normal_tokens(unicodedata.normalize("NFKC", simplify(text)))


def _normal_tokens(normal: str) -> list[str]:
    """`tokens` of a text already simplified and NFKC-normalised."""
    lowered = _THOUSANDS.sub("", normal.lower())
    return (_ASCII_TOKEN if lowered.isascii() else _TOKEN).findall(lowered)


def content_words(toks: list[str]) -> set[str]:
    """Words that carry meaning (no stop words, no 1–2 letter words); CJK as bigrams."""
    # A CJK token is one character, so the length test already leaves it out here (a
    # Latin run that took in CJK characters, "abc中", is kept as the word it is).
    # each distinct token tested once (a text repeats its words)
    out = {t for t in set(toks) if (len(t) > 2 or t.isdigit()) and t not in _STOP}
    joined = "\x00".join(toks)  # no token holds "\x00"
    for run in _CJK_RUN.findall(joined) if not joined.isascii() else ():
        characters = run[::2]  # a run of CJK tokens, "\x00" apart
        out.update(map(operator.add, characters, characters[1:]))
    return out


def sketch_text(
    title: str, body: str, when: date | None = None, signals: Iterable[tuple[str, str]] = ()
) -> Sketch:
    """The sketch of an item's title and body, with its facts (`watcher.domain.story_facts`).

    `when` is its publication date (weekdays it names become days), `signals` the
    (type, direction) pairs the classifier found in it.
    """
    # The title and body a line apart, not a space apart, give the same tokens: neither
    # separator is a token, nor composes with a neighbour in NFKC. Simplifying (OpenCC)
    # reads phrases across the separator, so a text that needs it is tokenised apart.
    joined = f"{title}\n{body}"
    simple = is_simplified(joined)  # one scan for traditional characters, not two
    text = normal_of(joined, simple)
    if text.isascii():  # `_normal_tokens` in bytes: each shingle and word hashed unencoded
        ascii_toks = _ASCII_BYTES_TOKEN.findall(_THOUSANDS.sub("", text.lower()).encode())
        ascii_shingles = _shingled(ascii_toks, b" ")
        ascii_words = _ascii_content_words(ascii_toks)
        counts = (len(ascii_shingles), len(ascii_words))
        hashed = (_bottom_of_bytes(ascii_shingles), _bottom_of_bytes(ascii_words))
    else:
        ascii_words = None
        toks = _normal_tokens(text) if simple else tokens(f"{title} {body}")
        shingles, words = _shingled(toks, " "), content_words(toks)
        counts = (len(shingles), len(words))
        hashed = (_bottom_sorted(shingles), _bottom_sorted(words))
    if title.isascii():  # as `tokens` reads it, in bytes
        title_toks = _ASCII_BYTES_TOKEN.findall(_THOUSANDS.sub("", title.lower()).encode())
        title_words = set(map(xxhash.xxh32_intdigest, _ascii_content_words(title_toks)))
    else:
        title_words = {_hash(w) for w in content_words(tokens(title))}
    facts = text_facts(text, title.count("\n"), when, signals, ascii_words)
    ordered = (*hashed, sorted(title_words), sorted(facts))
    return Sketch._sorted_in(tuple(map(tuple, ordered)), counts, facts)


def _ascii_content_words(toks: list[bytes]) -> set[bytes]:
    """`content_words` of an ASCII text's tokens in bytes (it has no CJK bigrams): a token
    of digits is at least three characters long or all digits, one of letters is kept
    when longer than two letters, so set differences alone leave out what it leaves out."""
    return set(toks).difference(_LEFT_OUT_BYTES)


def _shingled(toks: list[AnyStr], space: AnyStr) -> set[AnyStr]:
    """The word 3-shingles of `toks`, each its tokens a space apart (one shingle of all
    of them when there are fewer than three)."""
    if len(toks) >= 3:
        triples = zip(toks, toks[1:], toks[2:], strict=False)  # the shorter ones end it
        return set(map(space.join, triples))
    return {space.join(toks)} if toks else set()


COPY = 0.5  # share of the shorter text's 3-shingles found in the other: a copy or teaser
REWRITE = 0.3  # Jaccard of content words: the same facts in other sentences
CORROBORATED = 0.15  # a looser word Jaccard is enough when both name one specific (`SPECIFIC`)
NEAR_DAYS = 1  # items whose sources dated them this many days apart or less: published together


def similarity(a: Sketch, b: Sketch) -> float:
    """The evidence that two items report one event, scaled so that 1.0 or more is enough.

    Evidence is positive, never the mere absence of a difference: the shorter text is
    mostly contained in the other (`COPY`: a reprint or teaser), or their content words
    overlap a lot (`REWRITE`: the same facts in other sentences), or they overlap less
    (`CORROBORATED`) and both name the same specific of the event (a calendar day, a
    figure, an announcement or batch number, a place: `SPECIFIC`; the same list of
    `LISTED` or more materials: `_same_list`) or their sources dated
    them within `NEAR_DAYS` of each other (fetch times are not evidence); two items in other
    scripts share hardly a word, and `TRANSLATED` shared days or figures are their evidence
    (`_translated`). Shared wording alone
    is weak evidence in trade press, whose templates and follow-ups reuse it; titles are
    not evidence (templated headlines repeat, and many items have none). The thresholds
    were chosen on the dev split of tests/data/stories/real (README.md there).
    """
    return _evidence(a, b)[0]


def _evidence(earlier: Sketch, later: Sketch) -> tuple[float, bool]:
    """`similarity` of two items, and whether `later` is a copy or rewrite of `earlier`:
    `COPY` of its own 3-shingles are in `earlier`, or their content words overlap by
    `REWRITE`; a join on weaker evidence (`CORROBORATED`, `TRANSLATED`) is neither. A
    teaser copied from a report is a copy of it; the full report after its teaser is not
    (most of its text is not in the teaser) unless it shares `REWRITE` of its words."""
    if not earlier.shingle_count or not later.shingle_count:
        return 0.0, False
    words = _jaccard(earlier.words, later.words)
    common = _common_shingles(earlier, later)
    containment = _containment(earlier, later, common)
    corroborated = words / CORROBORATED if _share_specific(earlier, later) else 0.0
    score = max(containment / COPY, words / REWRITE, corroborated, _translated(earlier, later))
    copied = words >= REWRITE or common / later.shingle_count >= COPY
    return score, copied


TRANSLATED = 2  # pinning facts (days, figures, numbers) two items in other scripts share


def _translated(a: Sketch, b: Sketch) -> float:
    """The evidence of two items written in other scripts (`SCRIPT`: a Chinese wire and
    an English one), scaled like `similarity`: they share hardly a word, so the pinning facts
    they share (`PINNING`: days, figures, batch and announcement numbers) are the
    evidence, `TRANSLATED` of them enough; 0.0 for two items in one script.

    When they share a pinning fact and name no other day (`_event_days`), the same signal
    (type and direction) about a shared actor (a material or a country both name,
    `_same_signal_actor`) counts as one more: "津巴布韦 2月25日 暂停锂精矿出口" and
    "Zimbabwe suspended lithium concentrate exports on February 25" share one day, and
    what happened to whom on it. Without a shared pinning fact it counts for nothing
    (every day's export controls on rare earths share it), nor when one names a day the
    other does not (a press conference of August 22 on the controls of September 15)."""
    mine, theirs = a.of_kind(SCRIPT), b.of_kind(SCRIPT)
    if not mine or not theirs or mine == theirs:
        return 0.0
    pinned = sum(1 for f in a.facts & b.facts if kind_of(f) in PINNING)
    if pinned and _same_signal_actor(a, b):
        days, other_days = _event_days(a, b)
        pinned += days == other_days
    return pinned / TRANSLATED


def _same_signal_actor(a: Sketch, b: Sketch) -> bool:
    """True when both items report one signal (type and direction) and name one material
    or one country."""
    return not a.of_kind(SIGNAL).isdisjoint(b.of_kind(SIGNAL)) and bool(
        a.of_kind(MATERIAL) & b.of_kind(MATERIAL) or a.of_kind(COUNTRY) & b.of_kind(COUNTRY)
    )


THRESHOLD = 1.0
JOIN = THRESHOLD  # `similarity` at which two items with no contradicting fact report one event
# Kinds of facts that tell two events apart when the two items name values and share none
# (`watcher.domain.story_facts`): other actors (elements, countries), another month,
# batch or year, a batch of another year ("the first batch of 2024" is not that of
# 2021, whichever other years either names), another tonnage (a quota's or a
# shipment's size: outlets may pick other percentages or prices of one event, not
# another size), another signal type. The same type in the other direction (`SIGNAL`)
# tells them apart too unless they name one day, figure or number (`PINNING`).
CONTRADICTING = (
    MATERIAL,
    COUNTRY,
    MONTH,
    ORDINAL,
    ORDINAL_YEAR,
    YEAR,
    TONNAGE,
    SIGNAL_TYPE,
)
# Kinds of facts specific to one event: two items naming the same one corroborate each other.
SPECIFIC = (DAY, FIGURE, ORDINAL, PLACE)


LISTED = 3  # materials an announcement lists: the same list of this many in both is specific


def _share_specific(a: Sketch, b: Sketch) -> bool:
    """True when both items name one `SPECIFIC` fact, or one month and one year (a
    period, `_same_period`), or the same list of `LISTED` or more materials
    (`_same_list`), or were published within `NEAR_DAYS`."""
    if _share(a, b, SPECIFIC) or _share_figure(a, b) or _same_list(a, b):
        return True
    if _same_period(a, b):
        return True
    theirs = _published(b)
    return any(abs(x - y) <= NEAR_DAYS for x in _published(a) for y in theirs)


def _same_period(a: Sketch, b: Sketch) -> bool:
    """True when both items name one month and one year ("from October", "in 2024"): a
    period, specific as a day is ("operations suspended from October 2024"). A month
    alone recurs every year and a year alone holds every event of it; an item naming
    another month or year is set apart anyway (`CONTRADICTING`)."""
    return not a.of_kind(MONTH).isdisjoint(b.of_kind(MONTH)) and not a.of_kind(YEAR).isdisjoint(
        b.of_kind(YEAR)
    )


def _same_list(a: Sketch, b: Sketch) -> bool:
    """True when both items name the same `LISTED` or more materials and no other: the
    list of one announcement ("tungsten, tellurium, bismuth, molybdenum and indium"), which
    two rewrites of it repeat whatever their other words. Fewer materials are not specific
    (gallium and germanium: every follow-up of their controls names both)."""
    mine = a.of_kind(MATERIAL)
    return len(mine) >= LISTED and mine == b.of_kind(MATERIAL)


def _share_figure(a: Sketch, b: Sketch) -> bool:
    """True when a figure of one item is another way of writing one of the other's: an
    approximate "~18000 t" and "18,125 t", "7,742 t" and "7,742.2 t" (`approximated`)."""
    return bool(
        approximated(a.of_kind(FIGURE), b.of_kind(ROUNDED))
        or approximated(b.of_kind(FIGURE), a.of_kind(ROUNDED))
    )


def _share(a: Sketch, b: Sketch, kinds: Collection[int]) -> bool:
    """True when both items name one fact of `kinds` in their text."""
    return any(kind_of(f) in kinds for f in a.facts & b.facts)


# Kinds of facts that pin one event in time or size: a day, a figure, a batch or number.
# Two items sharing one are not told apart by a signal of one type read in the other
# direction: the classifier reads the direction from a phrase ("not a ban", "approved
# licences" in a report of new controls), and one event's reports differ in such
# phrases. A place does not pin an event (a mine that floods and reopens is one place).
PINNING = (DAY, FIGURE, ORDINAL)


def _published(sketch: Sketch) -> set[int]:
    """`published_days` of the sketch's facts, from its facts of that kind alone."""
    return published_days(sketch.of_kind(PUBLISHED))


def same_story(a: Sketch, b: Sketch) -> bool:
    """True when two items report the same event (`contradictions` and `JOIN`)."""
    return not contradicts(a, b) and similarity(a, b) >= JOIN


def contradictions(a: Sketch, b: Sketch) -> list[str]:
    """The kinds of facts on which two items disagree: each names values, none shared.

    `CONTRADICTING` kinds always count (signal types: both have some and share none;
    tonnages: unless an approximate one rounds the other's, `apart_kind`);
    signals of one type in other directions count unless both name one day, figure or
    batch (`PINNING`); days count when each names one the other does not; figures
    count when each names two the other lacks (an approximate one that rounds the
    other's aside) and both do not name `MEASURES_SHARED` quantities (the event's
    sizes, which rewrites repeat), or one when one text is mostly a copy of the other
    (a template: the same frame, other numbers), and so do places. In rewrites of one
    event the outlets pick different figures, so there figures only make news
    (`news`); but prices or sums in one currency count when both name some and share
    none (`PRICE`), and places when both name some and share none unless both name one
    tonnage or price (`_share_measure`: one market's report, whose places each names
    differently). Proper names (`NAME`) count when each gives one the other lacks and
    the two are mostly one text (`FRAME`: a template's notices on two companies).
    """
    return list(_contradicting(a, b))


def contradicts(a: Sketch, b: Sketch) -> bool:
    """`bool(contradictions(a, b))`, stopping at the first contradiction found."""
    if apart_kind(a.by_kind, b.by_kind) is not None:  # the cheap tests, no generator
        return True
    return any(True for _ in _contradicting(a, b, CONTRADICTING))


_ByKind = Mapping[int, frozenset[int]]  # an item's facts by kind (`Sketch.by_kind`)


def apart_kind(
    mine: _ByKind, theirs: _ByKind, kinds: Collection[int] = CONTRADICTING
) -> int | None:
    """The first of `kinds` (`CONTRADICTING` kinds) on which two items' facts, by kind
    (`Sketch.by_kind`, `facts_by_kind`), set them apart, or None: both name values of it
    and share none; tonnages not when an approximate one of either rounds one of the
    other's ("over 18,000 tonnes" and "18,125 tonnes", `approximated`)."""
    for kind in kinds:
        values, other = mine.get(kind), theirs.get(kind)
        if (
            values
            and other
            and values.isdisjoint(other)
            and not (
                kind == TONNAGE
                and (
                    approximated(values, theirs.get(ROUNDED, _NONE))
                    or approximated(other, mine.get(ROUNDED, _NONE))
                )
            )
        ):
            return kind
    return None


def barring(mine: _ByKind) -> Callable[[_ByKind], bool]:
    """`lambda theirs: apart_kind(mine, theirs) is not None`, with the kinds `mine` names
    no value of dropped once: the lookup asks it of about ten earlier items per new one
    (43,000 in the bench's templated round), and most of `CONTRADICTING` names nothing
    in either."""
    kinds = [kind for kind in CONTRADICTING if mine.get(kind)]
    return lambda theirs: apart_kind(mine, theirs, kinds) is not None


# --- barring by a stored item's mask, before its row is read -----------------------------

# The lanes of `bar_mask`, (kind, bits) from the lowest bit up: each `CONTRADICTING` kind
# and the tonnage roundings (`ROUNDED` facts in tonnes) that `apart_kind` asks about
# tonnages; 63 bits in all, so a mask fits a signed 64-bit column. Wider lanes for the
# kinds a template's notes differ in (a tonnage, its roundings, the element, the month).
BAR_LANES = (
    (TONNAGE, 16),
    (ROUNDED, 16),
    (MATERIAL, 8),
    (MONTH, 8),
    (COUNTRY, 5),
    (YEAR, 4),
    (ORDINAL, 2),
    (ORDINAL_YEAR, 2),
    (SIGNAL_TYPE, 2),
)
_LANE = {
    kind: (sum(bits for _, bits in BAR_LANES[:place]), bits)
    for place, (kind, bits) in enumerate(BAR_LANES)
}


def _lane_bits(values: Iterable[int], kind: int) -> int:
    """The bits of `values` (facts) in `kind`'s lane: one bit each, by the value less its
    kind, so a tonnage and a rounding of one value take the same bit in either lane."""
    offset, bits = _LANE[kind]
    mask = 0
    for value in values:
        mask |= 1 << (offset + without_kind(value) % bits)
    return mask


def _tonnes(values: Iterable[int]) -> list[int]:
    """The facts of `values` in tonnes (`unit_of`)."""
    return [value for value in values if unit_of(value) == TONNES]


def bar_mask(by_kind: _ByKind) -> int:
    """An item's `CONTRADICTING` facts and tonnage roundings folded into one integer
    (below 2**63): a bit per value in its kind's lane (`BAR_LANES`). Stored with each of
    the item's story keys, it lets `mask_barring` bar most contradicting items before
    their rows are read."""
    mask = 0
    for kind, _ in BAR_LANES:
        values = by_kind.get(kind, _NONE)
        mask |= _lane_bits(_tonnes(values) if kind == ROUNDED else values, kind)
    return mask


def _lane(kind: int) -> int:
    offset, bits = _LANE[kind]
    return ((1 << bits) - 1) << offset


# the tonnage and rounding lanes are as wide (`BAR_LANES`), the rounding lane above: a
# value's bit in one is its bit in the other moved by this many places
_TO_ROUNDED = _LANE[ROUNDED][0] - _LANE[TONNAGE][0]
_TESTED_LANES = [(kind, _lane(kind)) for kind, _ in BAR_LANES if kind in CONTRADICTING]


def mask_barring(mine: int) -> Callable[[int], bool]:
    """A test of an earlier item's `bar_mask` that is True only where `barring` of the
    new item's facts, whose `bar_mask` is `mine`, is True of that item's facts: a lane
    where both name values and it has no bit of one of mine says that the values differ.
    False says nothing (two values may share a bit): the caller then asks `barring` of
    the item's facts.

    Tonnages bar only when no tonnage of either is a rounding of the other's
    (`apart_kind`): their tonnage lane must miss my tonnages and my tonnage roundings,
    and their rounding lane my tonnages."""
    tests: list[tuple[int, int]] = []  # (lane, bits): bars when theirs names some, none of bits
    for kind, lane in _TESTED_LANES:  # the lanes that bar most often first
        bits_of_mine = mine & lane
        if not bits_of_mine:
            continue
        if kind == TONNAGE:
            bits_of_mine |= bits_of_mine << _TO_ROUNDED
            bits_of_mine |= (mine & _lane(ROUNDED)) >> _TO_ROUNDED
        tests.append((lane, bits_of_mine))

    def bars(theirs: int) -> bool:
        # a loop, not any() over a generator (SIM110): several times faster, and it runs
        # for every shortlisted item (about 55,000 a round in the bench's templated farm)
        for lane, bits in tests:  # noqa: SIM110
            if theirs & lane and not theirs & bits:
                return True
        return False

    return bars


def _contradicting(a: Sketch, b: Sketch, tested: Collection[int] = ()) -> Iterator[str]:
    """`contradictions`, one kind at a time, the cheap tests first (the `CONTRADICTING`
    kinds in `tested` known to agree)."""
    for kind in CONTRADICTING:
        if kind not in tested and apart_kind(a.by_kind, b.by_kind, (kind,)) is not None:
            yield KINDS[kind]
    if _other_prices(a, b):
        yield PRICE
    other_places = _disjoint(a.of_kind(PLACE), b.of_kind(PLACE)) and not _share_measure(a, b)
    if _disjoint(a.of_kind(SIGNAL), b.of_kind(SIGNAL)) and not _share(a, b, PINNING):
        yield KINDS[SIGNAL]
    if _each_has_own(*_event_days(a, b)):
        yield KINDS[DAY]
    figures = _own_figures(a, b), _own_figures(b, a)
    places = a.of_kind(PLACE), b.of_kind(PLACE)
    own_figure, own_place = _each_has_own(*figures), _each_has_own(*places)
    own_name = _each_has_own(a.of_kind(NAME), b.of_kind(NAME))
    copy = (own_figure or own_place) and _containment(a, b) >= COPY  # a sort: only if it matters
    if (copy and own_figure) or (
        _each_has_own(*figures, FIGURES_APART) and _shared_measures(a, b) < MEASURES_SHARED
    ):
        yield KINDS[FIGURE]
    if other_places or (copy and own_place):
        yield KINDS[PLACE]
    if own_name and _one_frame(a, b):
        yield KINDS[NAME]
    if _later_development(a, b) or _later_development(b, a):
        yield LATER


# Share of the shorter text's 3-shingles found in the other above which two items are one
# frame (a template's notices): then a name each gives and the other lacks sets them
# apart (a notice on one company's brands, the next on another's)
FRAME = 0.4


def _one_frame(a: Sketch, b: Sketch) -> bool:
    """True when the two items are mostly one text (`FRAME`)."""
    return _containment(a, b) >= FRAME


PRICE = "price"  # the contradiction of `_other_prices`


def _other_prices(a: Sketch, b: Sketch) -> bool:
    """True when both items name prices or sums in one currency and share none (an
    approximate one that rounds one of the other's aside): "64,820 yuan per kg" and
    "83,400 yuan per kg" are two markets or two days, whatever the frame around them."""
    mine, theirs = a.of_kind(FIGURE), b.of_kind(FIGURE)
    for currency in PRICES:
        own = frozenset(f for f in mine if unit_of(f) == currency)
        other = frozenset(f for f in theirs if unit_of(f) == currency)
        if (
            own
            and other
            and own.isdisjoint(other)
            and not approximated(own, b.of_kind(ROUNDED))
            and not approximated(other, a.of_kind(ROUNDED))
        ):
            return True
    return False


def _share_measure(a: Sketch, b: Sketch) -> bool:
    """True when both items name one tonnage, price or other quantity (not a percentage),
    or one written two ways (`approximated`): one market's report, whatever places each
    happens to name after "in" or "at" (one writes "in Hunan", the other "Hunan mines")."""
    return _shared_measures(a, b) > 0


# Quantities (not percentages) two rewrites both name that make them one event's reports
# whatever other figures each picks: "cut from 42 million to 12 million tonnes" in both.
MEASURES_SHARED = 2


def _shared_measures(a: Sketch, b: Sketch) -> int:
    """How many tonnages, prices and other quantities (not percentages) both items name,
    as written or written two ways (`approximated`, either item's the approximate one);
    the same for (a, b) as for (b, a)."""
    mine, theirs = a.of_kind(FIGURE), b.of_kind(FIGURE)
    shared = (mine & theirs) | approximated(mine, b.of_kind(ROUNDED))
    shared |= approximated(theirs, a.of_kind(ROUNDED))  # either may be the approximate one
    return sum(1 for f in shared if unit_of(f) != PERCENT)


def _event_days(a: Sketch, b: Sketch) -> tuple[frozenset[int], frozenset[int]]:
    """The days two items name, the day both were published on left out: one outlet
    dates its report ("March 2 (Bernama)", "today"), another names the event's own day
    ("effective March 3"); a day of the same day's news tells no two events apart."""
    mine, theirs = a.of_kind(DAY), b.of_kind(DAY)
    both = _published(a) & _published(b)
    if not both or not mine or not theirs:
        return mine, theirs
    today = {day_fact(date.fromordinal(day)) for day in both}
    return mine - today, theirs - today


def _own_figures(a: Sketch, b: Sketch) -> frozenset[int]:
    """The figures of `a` that `b` does not name, an approximate one that rounds one of
    `b`'s aside."""
    own = a.of_kind(FIGURE) - b.of_kind(FIGURE)
    return own - approximated(own, b.of_kind(ROUNDED)) if own else own


LATER = "later day"  # the contradiction of `_later_development`


def _later_development(earlier: Sketch, later: Sketch) -> bool:
    """True when `later` names a day after `earlier` was published and before it was
    published itself, and `earlier` does not name it: it reports something that happened
    after `earlier` was written, a new development. Both must be dated by their sources;
    a day `later` was published on is left out (a dateline, or the day's own news)."""
    published = _published(earlier)
    own = _published(later)
    if not published or not own or min(own) - max(published) < 2:
        return False
    first, last = date.fromordinal(max(published)), date.fromordinal(min(own))
    days = named_dates(later.facts - earlier.facts, last)
    return any(first < day < last for day in days)


@dataclass(frozen=True, slots=True)
class Placement:
    """The story a new item joins, and what it adds to it (`story_updates.update`: the
    facts its story lacked, or `REWORDED`; empty: a copy or rewrite that adds nothing)."""

    story_id: int
    adds: frozenset[int]


def best_story(
    sketch: Sketch,
    source: str,
    when: datetime,
    window: timedelta,
    candidates: Iterable[Candidate],
) -> Placement | None:
    """The story of the most similar item of another source within `window` of `when`.

    Only an item that reports the same event counts (`same_story`), and only a story
    none of whose compared items contradicts the new one: a teaser that names no
    figure must not chain Monday's note to Tuesday's. Two items that name no day and
    were published `UNDATED_APART` or more apart are two events. The placement says
    what the new item adds to what the compared items of that story carry
    (`watcher.domain.story_updates.update`): the facts they lack, else its own wording
    when no compared item of the story has it as a copy or rewrite (`_evidence`).
    """
    scores: dict[int, float] = {}
    known: dict[int, set[int]] = {}
    compared: dict[int, list[Sketch]] = {}
    copied: set[int] = set()
    barred: set[int] = set()
    for candidate in candidates:
        if candidate.source == source or abs(candidate.when - when) > window:
            continue
        story = candidate.story_id
        known.setdefault(story, set()).update(candidate.sketch.facts)
        compared.setdefault(story, []).append(candidate.sketch)
        if story in barred:
            continue
        apart = abs(candidate.when - when) >= UNDATED_APART
        if apart and _undated(sketch) and _undated(candidate.sketch):
            barred.add(story)
            continue
        # a contradiction (a few set operations) bars the story before any estimate (a
        # sort): in a template's items, other events in one frame, it is the common case
        if contradicts(sketch, candidate.sketch):
            barred.add(story)
            continue
        if _bound(sketch, candidate.sketch) < JOIN:
            continue  # cannot reach the threshold: skip the exact estimate
        score, copy = _evidence(candidate.sketch, sketch)
        if score >= JOIN:
            if copy:
                copied.add(story)
            if score > scores.get(story, 0.0):
                scores[story] = score
    eligible = [(score, story) for story, score in scores.items() if story not in barred]
    if not eligible:
        return None
    _, story = max(eligible)
    written = story_updates.written_words(
        itertools.chain.from_iterable(s.words for s in compared[story])
    )
    adds = story_updates.update(sketch.facts, frozenset(known[story]), written, story in copied)
    return Placement(story, adds)


UNDATED_APART = timedelta(days=2)  # items naming no day, this far apart: two events


FIGURES_APART = 2  # figures each item names and the other lacks that make two events


def _undated(sketch: Sketch) -> bool:
    return not sketch.of_kind(DAY)


def _each_has_own(mine: frozenset[int], theirs: frozenset[int], least: int = 1) -> bool:
    """True when each of two items' values of one kind holds `least` the other lacks."""
    return len(mine - theirs) >= least and len(theirs - mine) >= least


def _disjoint(mine: frozenset[int], theirs: frozenset[int]) -> bool:
    """True when both items name values of one kind and share none."""
    return bool(mine) and bool(theirs) and mine.isdisjoint(theirs)


# --- candidate lookup ------------------------------------------------------------------

KEYS = 16  # an item is indexed under the KEYS smallest hashes of each of its two sets
MIN_SHARED_KEYS = 2  # an earlier item is compared only when it shares this many keys
HOT_ITEMS = 64  # a key filed under this many items of other sources within the window is hot
SHORTLIST = 24  # at most this many earlier items are compared with a new one


def index_keys(sketch: Sketch) -> frozenset[int]:
    """The keys an item is filed under and looked up by.

    The `KEYS` smallest hashes of its content words and of its 3-shingles. The smallest
    hashes of the union of two sets are shared with probability about their Jaccard
    index each, so two items of one story share several keys (a rewrite through its
    words, a copy or a teaser through both) and unrelated items rarely share two. Its
    facts are not keys here: filed and looked up under its days and figures, every
    templated note of a day was shortlisted against the others (one wrong join in 4,000
    on the bench's templated farm, and the lookup's cost ratio 1.36 -> 1.66). Reports in
    other scripts find each other through `script_keys` instead, which an item files
    under and looks up apart (`filing_keys`, `lookup_keys`).
    """
    return frozenset((*sketch._in_order(1)[:KEYS], *sketch._in_order(0)[:KEYS]))


# The writing systems an item is written in (`SCRIPT` facts, `script_of`): a report in
# one is filed for the others (`script_keys`).
SCRIPTS = (fact(SCRIPT, "cjk"), fact(SCRIPT, "latin"))
_SCRIPT_KEY = 1 << 60  # above every 32-bit word or shingle hash and every fact


def script_keys(sketch: Sketch) -> tuple[frozenset[int], frozenset[int]]:
    """The keys an item is filed under for reports in other scripts, and those it looks
    up to find them: (filed, looked up), each apart from `index_keys`.

    Two reports of one event in two scripts (a Chinese wire and an English one) share
    hardly a word or shingle, so `index_keys` finds them only through numbers both write
    as digits. Their evidence is the pinning facts they share (`_translated`: days as
    calendar days, figures with their unit, batch and announcement numbers), so an item
    is filed under each of its `PINNING` facts tagged with its own script and looks up
    the same facts tagged with every other script. Items of one script never look up a
    key they file: a template's notes of one day (the same day, other figures) are not
    shortlisted against each other through these keys, and a lookup reads the other
    script's postings alone. An item without a `SCRIPT` fact has none.
    """
    mine = sketch.of_kind(SCRIPT)
    pinning = [f for kind in PINNING for f in sketch.of_kind(kind)]
    if not mine or not pinning:
        return _NONE, _NONE
    filed = frozenset(_script_key(script, f) for script in mine for f in pinning)
    looked_up = frozenset(
        _script_key(script, f) for script in SCRIPTS if script not in mine for f in pinning
    )
    return filed, looked_up


def _script_key(script: int, value: int) -> int:
    """The key of the 32-bit fact `value` filed by items of `script` (one of `SCRIPTS`):
    above 2**60, the script's place in `SCRIPTS` above the fact, so it is never a word,
    shingle or fact key and fits the store's signed 64-bit column."""
    return _SCRIPT_KEY | (SCRIPTS.index(script) << 32) | value


def script_tag(key: int) -> int | None:
    """What the keys of one script's facts share (`_script_key`: the key less its fact's
    32 bits), so they are the keys from `script_tag << 32` to `script_tag << 32 | 2**32 - 1`;
    None for a key that is no script key."""
    return key >> 32 if key >= _SCRIPT_KEY else None


def filing_keys(sketch: Sketch) -> frozenset[int]:
    """Every key an item is filed under: `index_keys` and its `script_keys` filed."""
    return index_keys(sketch) | script_keys(sketch)[0]


def lookup_keys(sketch: Sketch) -> frozenset[int]:
    """Every key an item looks up: `index_keys` and its `script_keys` looked up."""
    return index_keys(sketch) | script_keys(sketch)[1]


def hot_keys(postings: Mapping[int, Collection[int]]) -> frozenset[int]:
    """Keys filed under `HOT_ITEMS` items or more: too common to look up item by item.

    Counted by items, not stories: when a template makes every item join a few big
    stories (or wrongly joined ones), a key of one big story would otherwise be read
    and compared for every new item, and the cost of a poll would grow with the window.
    A hot key is left out of lookups and no longer filed, so no key costs more than
    `HOT_ITEMS` postings per lookup.
    """
    return frozenset(key for key, found in postings.items() if len(found) >= HOT_ITEMS)


def shortlist(
    keys: Iterable[int], postings: Mapping[int, Collection[int]], hot: Collection[int] = ()
) -> list[int]:
    """Ids of the earlier items that share at least `MIN_SHARED_KEYS` of `keys`, hot ones aside.

    `postings` maps a key to the ids of the earlier items filed under it, each once
    (missing: none). At most `SHORTLIST` ids, those sharing the most keys first (ties:
    the latest item first); each id once.
    """
    # counted in one pass over every posting (about 130 ids a new item in the bench's
    # templated round), not key by key, the postings gathered by `map` (no Python step
    # per key when no key is hot: a lookup leaves hot keys out of its postings)
    wanted = [key for key in keys if key not in hot] if hot else keys
    shared = Counter(itertools.chain.from_iterable(map(postings.get, wanted, itertools.repeat(()))))
    found = [(count, item_id) for item_id, count in shared.items() if count >= MIN_SHARED_KEYS]
    found.sort(reverse=True)
    return [item_id for _, item_id in found[:SHORTLIST]]


# --- sketch arithmetic ----------------------------------------------------------------


def _hash(text: str) -> int:
    return xxhash.xxh32_intdigest(text.encode("utf-8"))


def _bottom_sorted(values: set[str]) -> list[int]:
    """The `K` smallest distinct hashes of `values`, in order."""
    return _bottom_of_bytes(map(str.encode, values))


def _bottom_of_bytes(values: Iterable[bytes]) -> list[int]:
    """The `K` smallest distinct hashes of `values` (UTF-8 text), in order."""
    return sorted(set(map(xxhash.xxh32_intdigest, values)))[:K]


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """Bottom-k estimate of the Jaccard index (exact when both sets had ≤ k members)."""
    if not a or not b:
        return 0.0
    union = sorted(a | b)[:K]
    both = a & b
    return sum(1 for h in union if h in both) / len(union)


def _common_shingles(a: Sketch, b: Sketch) -> float:
    """|A∩B| of the two items' 3-shingle sets, estimated from their sketches' Jaccard."""
    j = _jaccard(a.shingles, b.shingles)
    return j / (1 + j) * (a.shingle_count + b.shingle_count)


def _containment(a: Sketch, b: Sketch, common: float | None = None) -> float:
    """Share of the smaller shingle set found in the larger: |A∩B| / min(|A|, |B|)
    (`common`: |A∩B| when the caller has it already)."""
    if common is None:
        common = _common_shingles(a, b)
    return min(1.0, common / max(1, min(a.shingle_count, b.shingle_count)))


def _bound(a: Sketch, b: Sketch) -> float:
    """An upper bound of `similarity(a, b)` from set intersections alone (no sorting).

    The bottom-k Jaccard estimate counts shared hashes among the k smallest of the union,
    so it is at most |A∩B| / min(k, |A∪B|); the containment grows with it.
    """
    if not a.shingle_count or not b.shingle_count:
        return 0.0
    words = _jaccard_bound(a.words, b.words)
    shingles = _jaccard_bound(a.shingles, b.shingles)
    common = shingles / (1 + shingles) * (a.shingle_count + b.shingle_count)
    containment = min(1.0, common / max(1, min(a.shingle_count, b.shingle_count)))
    corroborated = words / CORROBORATED if _share_specific(a, b) else 0.0
    return max(containment / COPY, words / REWRITE, corroborated, _translated(a, b))


def _jaccard_bound(a: frozenset[int], b: frozenset[int]) -> float:
    both = len(a & b)
    return both / min(K, len(a) + len(b) - both) if both else 0.0


# --- storage ---------------------------------------------------------------------------

_HEADER = struct.Struct("<BIIHHHH")
_VERSION = 3  # 3: with facts; 2: xxHash32 without facts (1 was a 4-byte BLAKE2b)


def encode_sketch(sketch: Sketch) -> bytes:
    """The sketch as bytes for the item row."""
    parts = [sketch._in_order(which) for which in range(4)]
    head = _HEADER.pack(_VERSION, sketch.shingle_count, sketch.word_count, *map(len, parts))
    return head + struct.pack(f"<{sum(map(len, parts))}I", *itertools.chain(*parts))


def decode_sketch(data: bytes) -> Sketch | None:
    """The sketch stored by `encode_sketch`, or None for an unknown or damaged value."""
    header = _header(data)
    if header is None:
        return None
    n_shingles, n_words, bounds = header
    return Sketch._packed_in(data, bounds, n_shingles, n_words)


def _header(data: bytes) -> tuple[int, int, tuple[int, int, int, int]] | None:
    """A stored sketch's shingle and word counts and where its four parts end (counted in
    values after the header), or None for an unknown version or a damaged value."""
    try:
        version, n_shingles, n_words, k1, k2, k3, k4 = _HEADER.unpack_from(data)
    except struct.error:
        return None
    bounds = (k1, k1 + k2, k1 + k2 + k3, k1 + k2 + k3 + k4)
    if version != _VERSION or len(data) < _HEADER.size + 4 * bounds[3]:
        return None
    return n_shingles, n_words, bounds


def _values(data: bytes, start: int, end: int) -> tuple[int, ...]:
    """The 32-bit values `start` to `end` (counted in values) stored after the header."""
    return struct.unpack_from(f"<{end - start}I", data, _HEADER.size + 4 * start)


def encoded_facts(data: bytes) -> frozenset[int] | None:
    """The facts of a sketch stored by `encode_sketch`, without reading its hash sets:
    `decode_sketch(data).facts`, and None where `decode_sketch` gives None."""
    stored = _stored_facts(data)
    return None if stored is None else frozenset(stored)


def encoded_facts_by_kind(data: bytes) -> Mapping[int, frozenset[int]] | None:
    """`facts_by_kind(encoded_facts(data))`, grouped in the order they are stored (sorted,
    so kind by kind) without building the set and sorting it again.

    The groups of the `GROUPED` stored sketches seen last are kept (`_grouped`) and
    shared: read them, never change them. A stored item is a candidate of poll after poll
    (the latest items of a template are every new one's candidates); grouping was a third
    of the writer's time in the bench's templated round (42,931 groupings of 2,914 items).
    """
    return _grouped(data)


GROUPED = 1024  # stored sketches whose facts by kind are kept (about 4 KB each)


@functools.lru_cache(maxsize=GROUPED)
def _grouped(data: bytes) -> Mapping[int, frozenset[int]] | None:
    """`facts_by_kind` of a stored sketch's facts, remembered (keyed by the stored bytes
    themselves, so an item revised or a row of another database never reads another
    item's groups; a hit costs a hash of the bytes, not unpacking them)."""
    stored = _stored_facts(data)
    return None if stored is None else facts_by_kind(stored)


def _stored_facts(data: bytes) -> tuple[int, ...] | None:
    """The facts part of a stored sketch, in stored (sorted) order, or None (`_header`)."""
    header = _header(data)
    if header is None:
        return None
    bounds = header[2]
    return _values(data, bounds[2], bounds[3])
