"""Retention: purge what no one will read again; keep signals and stories forever.

Items that carried no signal are dropped after `retention.items` (with their story
keys); deliveries that were
sent are dropped after `retention.deliveries`. Pending and dead deliveries are kept:
they are work or evidence. A hot story key's mark (`hot_story_keys`) is dropped once it
is older than the story window: lookups and filings ignore such a mark already (a key
is hot again only when the window's postings show it), so dropping it changes no
placement, and the table keeps only the marks in force instead of one row for every
key ever found hot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, exists, or_, select

from watcher.store.db import Database
from watcher.store.outbox import CANCELLED, SENT
from watcher.store.tables import DELIVERIES, HOT_STORY_KEYS, ITEMS, SIGNALS, STORY_KEYS


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows one purge removed."""

    items: int
    deliveries: int
    hot_marks: int


async def purge(
    db: Database,
    *,
    now: datetime,
    items_after: timedelta,
    deliveries_after: timedelta,
    hot_marks_after: timedelta | None = None,
) -> Purged:
    """Delete signal-less items and sent (or cancelled) deliveries older than their windows,
    and, with `hot_marks_after` (the story window), hot-key marks older than it."""
    unread = (
        ITEMS.c.fetched_at < now - items_after,
        ~exists().where(SIGNALS.c.item_id == ITEMS.c.id),
        ~exists().where(DELIVERIES.c.item_id == ITEMS.c.id),
    )

    cut = now - deliveries_after

    def purge_rows(connection: Connection) -> Purged:
        sent = connection.execute(
            delete(DELIVERIES).where(
                or_(
                    and_(DELIVERIES.c.status == SENT, DELIVERIES.c.sent_at < cut),
                    # cancelled by an opt-out: never sent, kept as long as a sent row
                    and_(DELIVERIES.c.status == CANCELLED, DELIVERIES.c.created_at < cut),
                )
            )
        )
        connection.execute(
            delete(STORY_KEYS).where(STORY_KEYS.c.item_id.in_(select(ITEMS.c.id).where(*unread)))
        )
        quiet = connection.execute(delete(ITEMS).where(*unread))
        marks = 0
        if hot_marks_after is not None:
            expired = HOT_STORY_KEYS.c.marked_at < now - hot_marks_after
            marks = int(connection.execute(delete(HOT_STORY_KEYS).where(expired)).rowcount or 0)
        return Purged(
            items=int(quiet.rowcount or 0),
            deliveries=int(sent.rowcount or 0),
            hot_marks=marks,
        )

    return await db.run_write(purge_rows)
