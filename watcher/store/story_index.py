"""Stories in the store: which story a new item joins, and who else reported a story.

New items are placed through the `story_keys` index (see `watcher.domain.stories` for the
keys, the shortlist and hot keys): a poll reads the postings of its items' keys and
the sketches of the few items they shortlist, not every item of the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from watcher.domain.stories import (
    Candidate,
    Posting,
    decode_sketch,
    hot_keys,
    shortlist,
)
from watcher.store.db import Database, chunked
from watcher.store.driver import Driver, marks
from watcher.store.tables import ItemRow, UTCDateTime


@dataclass(frozen=True, slots=True)
class Report:
    """One source's item within a story, for "also reported by"."""

    item_id: int
    source: str
    title: str
    link: str | None
    published: datetime | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a poll needs to place its new items: earlier items to compare, keys to skip.

    `candidates[i]` are the earlier items of other sources that the i-th sketch looked
    up shares enough keys with (an item with an unreadable sketch left out), `keys[i]`
    the keys to file it under (hot ones left out); `hot` are the keys too common to
    file new items under.
    """

    candidates: list[list[Candidate]]
    keys: list[frozenset[int]]
    hot: frozenset[int]


def lookup(
    driver: Driver,
    *,
    source: str,
    wanted: Sequence[tuple[frozenset[int], datetime]],
    window: timedelta,
    now: datetime,
) -> Lookup:
    """The earlier items of other sources each new item may join, within `window`.

    `wanted` holds each new item's keys (`watcher.domain.stories.index_keys`) and date. Reads
    the postings of those keys (`story_keys`), leaves out hot keys (known ones, and ones
    these postings show to be hot, which are recorded), shortlists the items sharing
    enough keys (`watcher.domain.stories.shortlist`) and reads only their sketches. Call inside
    the poll's write transaction, after `lock_story_assignment`.
    """
    if not wanted:
        return Lookup([], [], frozenset())
    to_db = driver.to_db(UTCDateTime())
    times = [when for _, when in wanted]
    start, end = to_db(min(times) - window), to_db(max(times) + window)
    every = sorted(set().union(*(keys for keys, _ in wanted)))
    hot = set(_known_hot(driver, every, to_db(now - window)))
    postings: dict[int, list[Posting]] = {}
    for chunk in chunked([k for k in every if k not in hot]):
        rows = driver.fetch(
            f'SELECT "key", item_id, story_id FROM story_keys WHERE "key" IN ({marks(len(chunk))})'
            " AND source != ? AND moment >= ? AND moment <= ?",
            [*chunk, source, start, end],
        )
        for key, item_id, story_id in rows:
            postings.setdefault(key, []).append(Posting(item_id, story_id))
    newly_hot = hot_keys(postings)
    if newly_hot:
        # a new mark, or an expired one found hot again: either starts a new window
        marked = to_db(now)
        driver.execute_many(
            'INSERT INTO hot_story_keys ("key", marked_at) VALUES (?, ?)'
            ' ON CONFLICT ("key") DO UPDATE SET marked_at = excluded.marked_at',
            [(key, marked) for key in sorted(newly_hot)],
        )
        hot |= newly_hot
    shortlists = [shortlist(keys, postings, hot) for keys, _ in wanted]
    sketches_by_id = _sketches(driver, sorted(set().union(*map(set, shortlists))))
    candidates = [[sketches_by_id[i] for i in ids if i in sketches_by_id] for ids in shortlists]
    return Lookup(candidates, [keys - hot for keys, _ in wanted], frozenset(hot))


@dataclass(frozen=True, slots=True)
class Filing:
    """An item to file under its story keys: its row, its story, its date and the keys."""

    item_id: int
    story_id: int
    moment: datetime
    keys: frozenset[int]


def file_keys(driver: Driver, source: str, filings: Sequence[Filing]) -> None:
    """File each item of `source` under its keys (`story_keys` rows, one statement).

    A poll files hundreds of keys; an item's date is converted once for all its keys.
    """
    to_db = driver.to_db(UTCDateTime())
    rows: list[tuple[int, int, int, str, Any]] = []
    for filing in filings:
        moment = to_db(filing.moment)
        rows.extend((key, filing.item_id, filing.story_id, source, moment) for key in filing.keys)
    driver.execute_many(
        'INSERT INTO story_keys ("key", item_id, story_id, source, moment) VALUES (?, ?, ?, ?, ?)',
        rows,
    )


def _known_hot(driver: Driver, keys: list[int], since: Any) -> list[int]:
    found: list[int] = []
    for chunk in chunked(keys):
        rows = driver.fetch(
            f'SELECT "key" FROM hot_story_keys WHERE "key" IN ({marks(len(chunk))})'
            " AND marked_at >= ?",
            [*chunk, since],
        )
        found.extend(row[0] for row in rows)
    return found


def _sketches(driver: Driver, ids: list[int]) -> dict[int, Candidate]:
    """The shortlisted items as candidates; an item whose sketch is unreadable is left out."""
    from_db = driver.from_db(UTCDateTime())
    out: dict[int, Candidate] = {}
    for chunk in chunked(ids):
        rows = driver.fetch(
            "SELECT id, story_id, source, fingerprint, coalesce(published, fetched_at)"
            f" FROM items WHERE id IN ({marks(len(chunk))})",
            chunk,
        )
        for item_id, story_id, other, data, when in rows:
            sketch = decode_sketch(bytes(data)) if data else None
            if sketch is not None and story_id is not None:
                out[item_id] = Candidate(
                    story_id=story_id, source=other, when=from_db(when), sketch=sketch
                )
    return out


async def story_reports(db: Database, story_id: int) -> list[Report]:
    """Every item of the story, first seen first: the sources that reported it."""
    async with db() as session:
        rows = await session.exec(
            select(ItemRow)
            .where(ItemRow.story_id == story_id)
            .order_by(col(ItemRow.fetched_at), col(ItemRow.id))
        )
        return [
            Report(
                item_id=row.id or 0,
                source=row.source,
                title=row.title,
                link=row.link,
                published=row.published,
                fetched_at=row.fetched_at,
            )
            for row in rows
        ]


async def also_reported_by(db: Database, story_id: int, item_id: int) -> list[Report]:
    """The story's items from sources other than item `item_id`'s, one per source.

    For "also reported by" in an alert or digest about item `item_id`.
    """
    reports = await story_reports(db, story_id)
    own = next((r.source for r in reports if r.item_id == item_id), None)
    seen: set[str] = set()
    out = []
    for report in reports:
        if report.source != own and report.source not in seen:
            seen.add(report.source)
            out.append(report)
    return out


# An arbitrary constant naming the "assign stories" critical section (pg_advisory_xact_lock).
STORY_LOCK_KEY = 0x5757_0001


def lock_story_assignment(driver: Driver) -> None:
    """Serialise story assignment across replicas until this transaction ends.

    On PostgreSQL a transaction-level advisory lock (released at commit, so it works
    behind transaction-pooling proxies, unlike session locks); two replicas polling two
    sources of one story then cannot each start their own story. On SQLite the write
    transaction's BEGIN IMMEDIATE already serialises writers.
    """
    if driver.dialect.name == "postgresql":
        driver.fetch("SELECT pg_advisory_xact_lock(?)", [STORY_LOCK_KEY])
