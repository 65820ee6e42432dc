"""Retention: purge what no one will read again; keep signals and stories forever.

Items that carried no signal are dropped after `retention.items` (with their story
keys); deliveries that were
sent are dropped after `retention.deliveries`. Pending and dead deliveries are kept:
they are work or evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists
from sqlmodel import col, select

from watcher.store.db import Database
from watcher.store.outbox import SENT
from watcher.store.tables import DeliveryRow, ItemRow, SignalRow, StoryKeyRow


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows one purge removed."""

    items: int
    deliveries: int


async def purge(
    db: Database, *, now: datetime, items_after: timedelta, deliveries_after: timedelta
) -> Purged:
    """Delete signal-less items and sent deliveries older than their windows; one transaction."""
    async with db.write() as session, session.begin():
        sent = await session.exec(
            delete(DeliveryRow).where(
                col(DeliveryRow.status) == SENT,
                col(DeliveryRow.sent_at) < now - deliveries_after,
            )
        )
        unread = (
            col(ItemRow.fetched_at) < now - items_after,
            ~exists().where(col(SignalRow.item_id) == col(ItemRow.id)),
            ~exists().where(col(DeliveryRow.item_id) == col(ItemRow.id)),
        )
        await session.exec(
            delete(StoryKeyRow).where(
                col(StoryKeyRow.item_id).in_(select(col(ItemRow.id)).where(*unread))
            )
        )
        quiet = await session.exec(delete(ItemRow).where(*unread))
    return Purged(
        items=int(getattr(quiet, "rowcount", 0) or 0),
        deliveries=int(getattr(sent, "rowcount", 0) or 0),
    )
