"""Stories in the store: which story a new item joins, through the story-key index.

New items are placed through the `story_keys` index (see `watcher.domain.stories` for the
keys, the shortlist and hot keys): a poll reads the postings of its items' keys and
the sketches of the few items they shortlist, not every item of the window.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, bindparam, func, insert, select
from sqlalchemy.sql.base import Executable

from watcher.domain.stories import (
    Candidate,
    decode_sketch,
    hot_keys,
    shortlist,
)
from watcher.store.db import chunked, upsert_insert
from watcher.store.driver import Driver
from watcher.store.tables import HOT_STORY_KEYS, ITEMS, STORY_KEYS


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a poll needs to place its new items: earlier items to compare, keys to skip.

    `candidates[i]` are the earlier items of other sources that the i-th sketch looked
    up shares enough keys with and that are within the window of its date (an item with
    an unreadable sketch left out), `keys[i]`
    the keys to file it under (hot ones left out); `hot` are the keys too common to
    file new items under.
    """

    candidates: list[list[Candidate]]
    keys: list[frozenset[int]]
    hot: frozenset[int]


_K = STORY_KEYS.c
POSTINGS = select(_K.key, _K.item_id).where(
    _K.key.in_(bindparam("keys", expanding=True)),
    _K.source != bindparam("source"),
    _K.moment >= bindparam("start"),
    _K.moment <= bindparam("end"),
)
KNOWN_HOT = select(HOT_STORY_KEYS.c.key).where(
    HOT_STORY_KEYS.c.key.in_(bindparam("keys", expanding=True)),
    HOT_STORY_KEYS.c.marked_at >= bindparam("since"),
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
) -> Lookup:
    """The earlier items of other sources each new item may join, within `window`.

    `wanted` holds each new item's keys (`watcher.domain.stories.index_keys`) and date.
    Reads the postings of those keys (`story_keys`), leaves out hot keys (known ones, and
    ones these postings show to be hot, which are recorded), shortlists the items sharing
    enough keys (`watcher.domain.stories.shortlist`) and reads only their sketches. Call
    inside the poll's write transaction, after `lock_story_assignment`.
    """
    if not wanted:
        return Lookup([], [], frozenset())
    times = [when for _, when in wanted]
    start, end = min(times) - window, max(times) + window
    every = sorted(set().union(*(keys for keys, _ in wanted)))
    hot = set(_known_hot(driver, every, now - window))
    postings: dict[int, list[int]] = {}  # key -> the ids of the items filed under it
    for chunk in chunked([k for k in every if k not in hot]):
        rows = driver.fetch(POSTINGS, {"keys": chunk, "source": source, "start": start, "end": end})
        for key, item_id in rows:
            found = postings.get(key)
            if found is None:
                postings[key] = [item_id]
            else:
                found.append(item_id)
    newly_hot = hot_keys(postings)
    if newly_hot:
        driver.execute_many(
            _mark_hot(driver.dialect.name),
            [{"key": key, "marked_at": now} for key in sorted(newly_hot)],
        )
        hot |= newly_hot
    shortlists = [shortlist(keys, postings, hot) for keys, _ in wanted]
    sketch_rows = _sketch_rows(driver, sorted(set().union(*map(set, shortlists))))
    # a sketch is decoded only for an item whose window holds it (`best_story` skips the
    # others), once however many items shortlist it: the postings span every new item's
    # window, and decoding them all held hundreds of sketches per poll for nothing
    decoded: dict[int, Candidate | None] = {}
    candidates = []
    for (_, when), ids in zip(wanted, shortlists, strict=True):
        mine = []
        for item_id in ids:
            row = sketch_rows.get(item_id)
            if row is None or abs(row[2] - when) > window:
                continue
            if item_id not in decoded:
                decoded[item_id] = _CANDIDATES.get(item_id, row)
            candidate = decoded[item_id]
            if candidate is not None:
                mine.append(candidate)
        candidates.append(mine)
    return Lookup(candidates, [keys - hot for keys, _ in wanted], frozenset(hot))


@dataclass(frozen=True, slots=True)
class Filing:
    """An item to file under its story keys: its row, its story, its date and the keys."""

    item_id: int
    story_id: int
    moment: datetime
    keys: frozenset[int]


def file_keys(driver: Driver, source: str, filings: Sequence[Filing]) -> None:
    """File each item of `source` under its keys (`story_keys` rows, one statement)."""
    rows = [
        {
            "key": key,
            "item_id": filing.item_id,
            "story_id": filing.story_id,
            "source": source,
            "moment": filing.moment,
        }
        for filing in filings
        for key in filing.keys
    ]
    driver.execute_many(FILE_KEY, rows)


def _known_hot(driver: Driver, keys: list[int], since: datetime) -> list[int]:
    found: list[int] = []
    for chunk in chunked(keys):
        found.extend(row[0] for row in driver.fetch(KNOWN_HOT, {"keys": chunk, "since": since}))
    return found


_SketchRow = tuple[int | None, str, datetime, bytes | None]  # story, source, moment, sketch


class _CandidateCache:
    """The candidates made of the last `size` items read, by item id: a hit skips decoding.

    An item is a candidate of many later polls (a busy story's, a template's), and each
    poll read and decoded its sketch again. An entry is used only when the item's row
    reads now as it did then (story, source, date and stored sketch all equal), so a
    revised, moved or deleted-and-reused row is decoded anew: the candidate is a
    function of the row, whichever database or replica wrote it. Entries keep the
    sketch unbuilt (`Sketch.unbuilt`: stored bytes and facts, a few KB), and each hit
    hands out a fresh copy, so the hash sets one poll's comparisons build die with it.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[int, tuple[_SketchRow, Candidate | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, item_id: int, row: _SketchRow) -> Candidate | None:
        """The candidate of `row` (item `item_id`); None as `_candidate` gives it."""
        with self._lock:
            found = self._entries.get(item_id)
            if found is not None and found[0] == row:
                self._entries.move_to_end(item_id)
                return _fresh(found[1])
        candidate = _candidate(*row)
        with self._lock:
            self._entries[item_id] = (row, _fresh(candidate))
            self._entries.move_to_end(item_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return candidate


def _fresh(candidate: Candidate | None) -> Candidate | None:
    if candidate is None:
        return None
    sketch = candidate.sketch.unbuilt()
    return Candidate(candidate.story_id, candidate.source, candidate.when, sketch)


# a poll of a busy template shortlists a few hundred items, mostly ones read by recent polls
CANDIDATE_CACHE = 1024
_CANDIDATES = _CandidateCache(CANDIDATE_CACHE)


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
