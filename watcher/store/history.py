"""Reading history back: stored items with the signals stored for them (for backtests).

Rows become the frozen values the other stages use (`Item`, `Signal`); nothing here
writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from watcher.domain.items import Item, Signal
from watcher.store.db import Database, chunked
from watcher.store.tables import ItemRow, SignalRow
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
    async with db() as session:
        rows = (
            await session.exec(
                select(ItemRow)
                .where(ItemRow.fetched_at >= since)
                .order_by(col(ItemRow.fetched_at), col(ItemRow.id))
            )
        ).all()
        ids = [row.id for row in rows if row.id is not None]
        signals: dict[int, list[Signal]] = {}
        for chunk in chunked(ids):
            found = await session.exec(
                select(SignalRow)
                .where(col(SignalRow.item_id).in_(chunk))
                .order_by(col(SignalRow.id))
            )
            for signal in found:
                signals.setdefault(signal.item_id, []).append(signal_value(signal))
    return [
        StoredItem(
            id=row.id,
            item=item_value(row),
            fetched_at=row.fetched_at,
            signals=tuple(signals.get(row.id, ())),
        )
        for row in rows
        if row.id is not None
    ]
