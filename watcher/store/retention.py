"""Retention: purge what no one will read again; keep signals and stories forever.

Items that carried no signal are dropped after `retention.items` (with their story
keys); deliveries that were
sent are dropped after `retention.deliveries`. Pending and dead deliveries are kept:
they are work or evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, exists, or_, select

from watcher.store.db import Database
from watcher.store.outbox import CANCELLED, SENT
from watcher.store.tables import DELIVERIES, ITEMS, SIGNALS, STORY_KEYS


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows one purge removed."""

    items: int
    deliveries: int


async def purge(
    db: Database, *, now: datetime, items_after: timedelta, deliveries_after: timedelta
) -> Purged:
    """Delete signal-less items and sent (or cancelled) deliveries older than their windows."""
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
        return Purged(items=int(quiet.rowcount or 0), deliveries=int(sent.rowcount or 0))

    return await db.run_write(purge_rows)
