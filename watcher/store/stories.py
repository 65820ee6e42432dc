"""Stories in the store: which story a new item joins, and who else reported a story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.store.db import Sessions
from watcher.store.tables import ItemRow, UTCDateTime
from watcher.stories import Candidate, decode_sketch

MAX_CANDIDATES = 5000


@dataclass(frozen=True, slots=True)
class Report:
    """One source's item within a story, for "also reported by"."""

    item_id: int
    source: str
    title: str
    link: str | None
    published: datetime | None
    fetched_at: datetime


async def load_candidates(
    session: AsyncSession, *, source: str, start: datetime, end: datetime
) -> list[Candidate]:
    """Items of other sources dated within [start, end] that new items may join.

    An item's date is its published time, else when it was first fetched.
    """
    moment = func.coalesce(ItemRow.published, ItemRow.fetched_at, type_=UTCDateTime())
    rows = await session.exec(
        select(ItemRow.story_id, ItemRow.source, ItemRow.fingerprint, moment)
        .where(
            ItemRow.source != source,
            col(ItemRow.fingerprint).is_not(None),
            col(ItemRow.story_id).is_not(None),
            moment >= start,
            moment <= end,
        )
        .order_by(col(ItemRow.id).desc())
        .limit(MAX_CANDIDATES)
    )
    candidates = []
    for story_id, other, data, when in rows:
        sketch = decode_sketch(data) if data else None
        if sketch is not None and story_id is not None and when is not None:
            candidates.append(Candidate(story_id=story_id, source=other, when=when, sketch=sketch))
    return candidates


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
