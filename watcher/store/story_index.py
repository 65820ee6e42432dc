"""Stories in the store: which story a new item joins, through the story-key index.

New items are placed through the `story_keys` index (see `watcher.domain.stories` for the
keys, the shortlist and hot keys): a poll reads the postings of its items' keys and
the sketches of the few items they shortlist, not every item of the window.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, cast, func, insert, select, type_coerce
from sqlalchemy.sql.base import Executable

from watcher.domain.stories import (
    CONTRADICTING,
    Candidate,
    Sketch,
    barring,
    decode_sketch,
    encoded_facts_by_kind,
    hot_keys,
    mask_barring,
    script_tag,
    shortlist,
)
from watcher.store.db import chunked, upsert_insert
from watcher.store.driver import Driver
from watcher.store.tables import HOT_STORY_KEYS, ITEMS, STORY_KEYS, micros


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a poll needs to place its new items: earlier items to compare, keys to skip.

    `candidates[i]` are the earlier items of other sources that the i-th sketch looked
    up shares enough keys with and that are within the window of its date (an item with
    an unreadable sketch left out); `hot` are the keys too common to file new items
    under (the caller files each item under its own keys less these: an item may file
    keys it does not look up, `watcher.domain.stories.script_keys`).
    """

    candidates: list[list[Candidate]]
    hot: frozenset[int]


_K = STORY_KEYS.c


# a key's postings as one row, its item ids joined by commas: a poll's lookup read about
# 1,900 rows of a key and an id each in the bench's templated round (373,000 in all),
# and reading a row costs the writer's thread a step of the driver and a hold of the
# GIL; grouped, about 170 rows a poll, the ids split and read in C
POSTINGS = (
    select(_K.key, func.aggregate_strings(cast(_K.item_id, String), ","))
    .where(
        _K.key.in_(bindparam("keys", expanding=True)),
        _K.source != bindparam("source"),
        _K.moment >= bindparam("start"),
        _K.moment <= bindparam("end"),
    )
    .group_by(_K.key)
)
# whether any other source filed a key from `low` to `high` (the keys of one script's
# facts, `script_tag`) within the dates: an English-only store has none of the keys an
# English item looks up to find Chinese reports, and asking for their postings one by
# one was a third of the keys a poll asked for in the bench's templated round
ANY_POSTED = (
    select(_K.key)
    .where(
        _K.key >= bindparam("low"),
        _K.key <= bindparam("high"),
        _K.source != bindparam("source"),
        _K.moment >= bindparam("start"),
        _K.moment <= bindparam("end"),
    )
    .limit(1)
)
KNOWN_HOT = select(HOT_STORY_KEYS.c.key).where(
    HOT_STORY_KEYS.c.key.in_(bindparam("keys", expanding=True)),
    HOT_STORY_KEYS.c.marked_at >= bindparam("since"),
)
# The key of an item's head row: filed with its story keys, never looked up as one (story
# keys are 32-bit hashes and `script_keys` above 2**60), it carries the item's story,
# date and bar mask (`watcher.domain.stories.bar_mask`). A lookup reads the head rows of
# the items it shortlists first (a seek each, by primary key, a few bytes), and the rows
# in `items` (each with its sketch) only of the items no mask bars.
HEAD = -1
# the moment as the database holds it, microseconds (`micros`; no converter: a poll
# reads about 500 head rows, each of another moment); the lookup compares it with
# window bounds converted once to that form
HEADS = select(_K.item_id, _K.story_id, type_coerce(_K.moment, BigInteger()), _K.bars).where(
    _K.key == HEAD, _K.item_id.in_(bindparam("ids", expanding=True))
)
SKETCHES = select(
    ITEMS.c.id,
    ITEMS.c.story_id,
    ITEMS.c.source,
    ITEMS.c.fingerprint,
    func.coalesce(ITEMS.c.published, ITEMS.c.fetched_at).label("moment"),
).where(ITEMS.c.id.in_(bindparam("ids", expanding=True)))
FILE_KEY = insert(STORY_KEYS).values(
    key=bindparam("key"),
    item_id=bindparam("item_id"),
    story_id=bindparam("story_id"),
    source=bindparam("source"),
    moment=bindparam("moment"),
    bars=bindparam("bars"),
)
# An arbitrary constant naming the "assign stories" critical section (pg_advisory_xact_lock).
STORY_LOCK_KEY = 0x5757_0001
STORY_LOCK = select(func.pg_advisory_xact_lock(bindparam("key", STORY_LOCK_KEY, BigInteger)))


@functools.cache
def _mark_hot(dialect: str) -> Executable:
    """Mark a key hot now: a new mark, or an expired one found hot again (a new window)."""
    insert_of = upsert_insert(dialect)
    statement = insert_of(HOT_STORY_KEYS).values(
        key=bindparam("key"), marked_at=bindparam("marked_at")
    )
    return statement.on_conflict_do_update(
        index_elements=[HOT_STORY_KEYS.c.key],
        set_={"marked_at": statement.excluded.marked_at},
    )


def lookup(
    driver: Driver,
    *,
    source: str,
    wanted: Sequence[tuple[frozenset[int], datetime]],
    window: timedelta,
    now: datetime,
    sketches: Sequence[Sketch | None] = (),
) -> Lookup:
    """The earlier items of other sources each new item may join, within `window`.

    `wanted` holds each new item's keys (`watcher.domain.stories.index_keys`) and date.
    Reads the postings of those keys (`story_keys`), leaves out hot keys (known ones, and
    ones these postings show to be hot, which are recorded), shortlists the items sharing
    enough keys (`watcher.domain.stories.shortlist`) and reads only their sketches. Call
    inside the poll's write transaction, after `lock_story_assignment`.

    `sketches[i]`, when given, is the i-th new item's sketch: the items of a story that
    one of its shortlisted items bars (`_barred`: the first tests of `contradicts`) are then
    left out of `candidates[i]` before their sketches are decoded, since `best_story`
    never places an item in a barred story whatever its other items. In a template's
    items (the same frame, other events) that is nearly every candidate, and most are
    barred by the mask their key rows carry (`mask_barring`) before their rows in
    `items` are read; the rest by their stored facts, as `barring` says.
    """
    if not wanted:
        return Lookup([], frozenset())
    times = [when for _, when in wanted]
    start, end = min(times) - window, max(times) + window
    every = sorted(set().union(*(keys for keys, _ in wanted)))
    hot = set(_known_hot(driver, every, now - window))
    postings: dict[int, list[int]] = {}  # key -> the ids of the items filed under it
    asked = _posted(driver, [k for k in every if k not in hot], source, start, end)
    for chunk in chunked(asked):
        rows = driver.fetch(POSTINGS, {"keys": chunk, "source": source, "start": start, "end": end})
        for key, ids in rows:  # a key is in one chunk only: one row each
            postings[key] = list(map(int, ids.split(",")))
    newly_hot = hot_keys(postings)
    if newly_hot:
        driver.execute_many(
            _mark_hot(driver.dialect.name),
            [{"key": key, "marked_at": now} for key in sorted(newly_hot)],
        )
        hot |= newly_hot
        for key in newly_hot:  # the postings hold no hot key: shortlisted as if not asked
            del postings[key]
    shortlists = [shortlist(keys, postings) for keys, _ in wanted]
    heads = _heads(driver, sorted(set().union(*map(set, shortlists))))
    # first the stories barred by the masks of the items each window holds (a story
    # barred by one is barred whole); the rows of the other items are read, once
    masked = [
        _masked(
            sketches[i] if sketches else None,
            ids,
            heads,
            micros(when - window),
            micros(when + window),
        )
        for i, ((_, when), ids) in enumerate(zip(wanted, shortlists, strict=True))
    ]
    sketch_rows = _sketch_rows(driver, sorted(set().union(*(set(rest) for _, rest in masked))))
    # a sketch is decoded only for an item whose window holds it (`best_story` skips the
    # others) and whose story no item of that window bars, once however many items
    # shortlist it: the postings span every new item's window, and decoding them all
    # held hundreds of sketches per poll for nothing
    decoded: dict[int, Candidate | None] = {}
    facts: dict[int, _ByKind | None] = {}
    candidates = []
    for i, ((_, when), (masked_out, rest)) in enumerate(zip(wanted, masked, strict=True)):
        first, last = when - window, when + window  # |moment - when| <= window
        near = [
            (item_id, row)
            for item_id in rest
            if (row := sketch_rows.get(item_id)) is not None and first <= row[2] <= last
        ]
        barred = masked_out | _barred(sketches[i] if sketches else None, near, facts)
        mine = []
        for item_id, row in near:
            if row[0] in barred:
                continue
            if item_id not in decoded:
                decoded[item_id] = _candidate(*row)
            candidate = decoded[item_id]
            if candidate is not None:
                mine.append(candidate)
        candidates.append(mine)
    return Lookup(candidates, frozenset(hot))


_ByKind = Mapping[int, frozenset[int]]  # an item's facts by kind (`facts_by_kind`)
# an item's story, moment (microseconds as stored, `HEADS`) and bar mask
_Head = tuple[int, int, int]


def _masked(
    sketch: Sketch | None,
    ids: Sequence[int],
    heads: Mapping[int, _Head],
    first: int,
    last: int,
) -> tuple[set[int], list[int]]:
    """The stories of the items of `ids` within [first, last] (bounds as the database
    stores a moment, `micros`) that an item's bar mask
    bars against the new item's `sketch` (`mask_barring`: only where `_barred` would bar
    it by the item's facts), and the ids, in the order of `ids`, whose rows are still
    to read and test: those within [first, last] whose story none of these bars, and
    those without a head row (filed before migration 0012), wherever they stand."""
    barred: set[int] = set()
    # the heads within [first, last] (and the items without one); the others are neither
    # tested nor read
    near = [
        (item_id, head)
        for item_id in ids
        if (head := heads.get(item_id)) is None or first <= head[1] <= last
    ]
    if sketch is not None and not sketch.by_kind.keys().isdisjoint(CONTRADICTING):
        bars = mask_barring(sketch.bars)
        for _, head in near:
            if head is not None and head[0] not in barred and bars(head[2]):
                barred.add(head[0])
    return barred, [item_id for item_id, head in near if head is None or head[0] not in barred]


def _barred(
    sketch: Sketch | None,
    near: Sequence[tuple[int, _SketchRow]],
    facts: dict[int, _ByKind | None],
) -> set[int]:
    """The stories of `near` (shortlisted ids and their rows) that an item of theirs bars
    as `contradicts` does first (`apart_kind`, asked through `barring`) against the new
    item's `sketch`. An item without a story or a readable sketch bars nothing (it is no
    candidate). `facts` caches each item's facts by kind across a poll's items."""
    barred: set[int] = set()
    mine = sketch.by_kind if sketch is not None else {}
    if mine.keys().isdisjoint(CONTRADICTING):
        return barred
    bars = barring(mine)
    for item_id, (story_id, _, _, data) in near:
        if story_id is None or story_id in barred:
            continue
        if item_id not in facts:
            facts[item_id] = encoded_facts_by_kind(bytes(data)) if data else None
        theirs = facts[item_id]
        if theirs is not None and bars(theirs):
            barred.add(story_id)
    return barred


@dataclass(frozen=True, slots=True)
class Filing:
    """An item to file under its story keys: its row, its story, its date, the keys and
    the bar mask of its facts (`watcher.domain.stories.bar_mask`)."""

    item_id: int
    story_id: int
    moment: datetime
    keys: frozenset[int]
    bars: int


_FILED = ("key", "item_id", "story_id", "source", "moment", "bars")  # `FILE_KEY`'s parameters


def file_keys(driver: Driver, source: str, filings: Sequence[Filing]) -> None:
    """File each item of `source` under its keys and its `HEAD` row (`story_keys` rows,
    one statement); the head row alone carries the bar mask.

    The rows go in key order: the keys are hashes, so a poll's 700 rows land on as many
    leaves of the table's key order, and in order each leaf is visited once."""
    rows: list[tuple[Any, ...]] = []
    for filing in filings:
        # `micros` is the column's own converter (`UTCMicros`), called once per item
        item_id, story_id, moment = filing.item_id, filing.story_id, micros(filing.moment)
        rows.append((HEAD, item_id, story_id, source, moment, filing.bars))
        rows.extend([(key, item_id, story_id, source, moment, None) for key in filing.keys])
    rows.sort(key=_ROW_ORDER)
    driver.execute_rows(FILE_KEY, _FILED, rows)


_ROW_ORDER = operator.itemgetter(0, 1)  # a row's key and item: the table's primary key


def _posted(
    driver: Driver, keys: list[int], source: str, start: datetime, end: datetime
) -> list[int]:
    """`keys` less the script keys of each script under whose keys (`script_tag`) no
    other source filed an item within [start, end]: their postings are empty."""
    # a story key is a 32-bit hash (`index_keys`): only keys above are asked for a tag
    tags = {tag for key in keys if key > _FACT and (tag := script_tag(key)) is not None}
    dates = {"source": source, "start": start, "end": end}
    empty = {
        tag
        for tag in tags
        if not driver.fetch(ANY_POSTED, {"low": tag << 32, "high": tag << 32 | _FACT} | dates)
    }
    if not empty:
        return keys
    return [key for key in keys if key <= _FACT or script_tag(key) not in empty]


_FACT = 2**32 - 1  # the fact's bits of a script key


def _known_hot(driver: Driver, keys: list[int], since: datetime) -> list[int]:
    found: list[int] = []
    for chunk in chunked(keys):
        found.extend(row[0] for row in driver.fetch(KNOWN_HOT, {"keys": chunk, "since": since}))
    return found


def _heads(driver: Driver, ids: list[int]) -> dict[int, _Head]:
    """The story, date (as stored) and bar mask of each of `ids` that has a `HEAD` row,
    by id."""
    out: dict[int, _Head] = {}
    for chunk in chunked(ids):
        for item_id, story_id, moment, bars in driver.fetch(HEADS, {"ids": chunk}):
            out[item_id] = (story_id, moment, bars)
    return out


_SketchRow = tuple[int | None, str, datetime, bytes | None]  # story, source, moment, sketch


def _sketch_rows(driver: Driver, ids: list[int]) -> dict[int, _SketchRow]:
    """The shortlisted items' stories, sources, moments and encoded sketches, by id."""
    out: dict[int, _SketchRow] = {}
    for chunk in chunked(ids):
        for item_id, story_id, other, data, when in driver.fetch(SKETCHES, {"ids": chunk}):
            out[item_id] = (story_id, other, when, data)
    return out


def _candidate(
    story_id: int | None, source: str, when: datetime, data: bytes | None
) -> Candidate | None:
    """The item as a candidate; None when it has no story or its sketch is unreadable."""
    sketch = decode_sketch(bytes(data)) if data else None
    if sketch is None or story_id is None:
        return None
    return Candidate(story_id=story_id, source=source, when=when, sketch=sketch)


def lock_story_assignment(driver: Driver) -> None:
    """Serialise story assignment across replicas until this transaction ends.

    On PostgreSQL a transaction-level advisory lock (released at commit, so it works
    behind transaction-pooling proxies, unlike session locks); two replicas polling two
    sources of one story then cannot each start their own story. On SQLite the write
    transaction's BEGIN IMMEDIATE already serialises writers.
    """
    if driver.dialect.name == "postgresql":
        driver.fetch(STORY_LOCK)
