"""Reading history back: stored items with the signals stored for them (for backtests).

Rows become the frozen values the other stages use (`Item`, `Signal`); nothing here
writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from watcher.domain.items import Item, Signal
from watcher.store.db import Database, chunked
from watcher.store.tables import ITEMS, SIGNALS
from watcher.store.values import item_value, signal_value


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as last stored, when it was fetched, and the signals stored with it."""

    id: int
    item: Item
    fetched_at: datetime
    signals: tuple[Signal, ...]


async def items_fetched_since(db: Database, since: datetime) -> list[StoredItem]:
    """Items fetched at or after `since` (oldest first), each with its stored signals."""

    def read(connection: Connection) -> list[StoredItem]:
        rows = connection.execute(
            select(ITEMS)
            .where(ITEMS.c.fetched_at >= since)
            .order_by(ITEMS.c.fetched_at, ITEMS.c.id)
        ).all()
        signals: dict[int, list[Signal]] = {}
        for chunk in chunked([row.id for row in rows]):
            found = connection.execute(
                select(SIGNALS).where(SIGNALS.c.item_id.in_(chunk)).order_by(SIGNALS.c.id)
            )
            for signal in found:
                signals.setdefault(signal.item_id, []).append(signal_value(signal._mapping))
        return [
            StoredItem(
                id=row.id,
                item=item_value(row._mapping),
                fetched_at=row.fetched_at,
                signals=tuple(signals.get(row.id, ())),
            )
            for row in rows
        ]

    return await db.run_read(read)
