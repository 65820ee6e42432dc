"""Stories in the store: which story a new item joins, and who else reported a story.

New items are placed through the `story_keys` index (see `watcher.stories` for the
keys, the shortlist and hot keys): a poll reads the postings of its items' keys, not
every item of the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.store.db import Sessions, chunked, insert_or_update
from watcher.store.tables import HotStoryKeyRow, ItemRow, StoryKeyRow, UTCDateTime
from watcher.stories import (
    Candidate,
    Posting,
    Sketch,
    decode_sketch,
    hot_keys,
    index_keys,
    shortlist,
)


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
    up shares enough keys with, `keys[i]` the keys to file it under (hot ones left
    out); `hot` are the keys too common to file new items under.
    """

    candidates: list[list[Candidate]]
    keys: list[frozenset[int]]
    hot: frozenset[int]


async def find_candidates(
    session: AsyncSession,
    *,
    source: str,
    sketches: Sequence[tuple[Sketch, datetime]],
    window: timedelta,
    now: datetime,
) -> Lookup:
    """The earlier items of other sources each (sketch, date) may join, within `window`.

    Reads the postings of the sketches' keys (`story_keys`), leaves out hot keys (known
    ones, and ones these postings show to be hot, which are recorded), shortlists the
    items sharing enough keys (`watcher.stories.shortlist`) and reads only their sketches.
    Call inside the poll's write transaction, after `lock_story_assignment`.
    """
    if not sketches:
        return Lookup([], [], frozenset())
    wanted = [index_keys(sketch) for sketch, _ in sketches]
    times = [when for _, when in sketches]
    start, end = min(times) - window, max(times) + window
    every = sorted(set().union(*wanted))
    hot = set(await _known_hot(session, every, now - window))
    postings: dict[int, list[Posting]] = {}
    for chunk in chunked([k for k in every if k not in hot]):
        rows = await session.exec(
            select(StoryKeyRow.key, StoryKeyRow.item_id, StoryKeyRow.story_id).where(
                col(StoryKeyRow.key).in_(chunk),
                StoryKeyRow.source != source,
                col(StoryKeyRow.moment) >= start,
                col(StoryKeyRow.moment) <= end,
            )
        )
        for key, item_id, story_id in rows:
            postings.setdefault(key, []).append(Posting(item_id, story_id))
    newly_hot = hot_keys(postings)
    if newly_hot:
        # a new mark, or an expired one found hot again: either starts a new window
        marks = [{"key": key, "marked_at": now} for key in newly_hot]
        await session.exec(insert_or_update(session, HotStoryKeyRow, marks, ["key"], ["marked_at"]))
        hot |= newly_hot
    shortlists = [shortlist(keys, postings, hot) for keys in wanted]
    sketches_by_id = await _sketches(session, sorted(set().union(*map(set, shortlists))))
    candidates = [[sketches_by_id[i] for i in ids if i in sketches_by_id] for ids in shortlists]
    return Lookup(candidates, [keys - hot for keys in wanted], frozenset(hot))


def key_rows(
    item_id: int, story_id: int, source: str, moment: datetime, keys: frozenset[int]
) -> list[dict[str, object]]:
    """The `story_keys` rows that file an item under `keys`."""
    return [
        {"key": key, "item_id": item_id, "story_id": story_id, "source": source, "moment": moment}
        for key in keys
    ]


async def _known_hot(session: AsyncSession, keys: list[int], since: datetime) -> list[int]:
    found: list[int] = []
    for chunk in chunked(keys):
        rows = await session.exec(
            select(HotStoryKeyRow.key).where(
                col(HotStoryKeyRow.key).in_(chunk), HotStoryKeyRow.marked_at >= since
            )
        )
        found.extend(rows)
    return found


async def _sketches(session: AsyncSession, ids: list[int]) -> dict[int, Candidate]:
    """The shortlisted items as candidates; an item whose sketch is unreadable is left out."""
    moment = func.coalesce(ItemRow.published, ItemRow.fetched_at, type_=UTCDateTime())
    out: dict[int, Candidate] = {}
    connection = await session.connection()
    for chunk in chunked(ids):
        rows = await connection.execute(
            sa_select(
                col(ItemRow.id),
                col(ItemRow.story_id),
                col(ItemRow.source),
                col(ItemRow.fingerprint),
                moment,
            ).where(col(ItemRow.id).in_(chunk))
        )
        for item_id, story_id, other, data, when in rows:
            sketch = decode_sketch(data) if data else None
            if sketch is not None and story_id is not None and item_id is not None:
                out[item_id] = Candidate(story_id=story_id, source=other, when=when, sketch=sketch)
    return out


async def story_reports(db: Sessions, story_id: int) -> list[Report]:
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


async def also_reported_by(db: Sessions, story_id: int, item_id: int) -> list[Report]:
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


async def lock_story_assignment(session: AsyncSession) -> None:
    """Serialise story assignment across replicas until this transaction ends.

    On PostgreSQL a transaction-level advisory lock (released at commit, so it works
    behind transaction-pooling proxies, unlike session locks); two replicas polling two
    sources of one story then cannot each start their own story. On SQLite the write
    transaction's BEGIN IMMEDIATE already serialises writers.
    """
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(STORY_LOCK_KEY)))
