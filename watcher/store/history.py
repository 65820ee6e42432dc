"""Reading history back: stored items with the signals stored for them (for backtests).

Rows become the frozen values the other stages use (`Item`, `Signal`); nothing here
writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from watcher.items import Direction, Entities, Evidence, Item, Severity, Signal, Span
from watcher.store.db import Sessions
from watcher.store.tables import ItemRow, SignalRow

CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as last stored, when it was fetched, and the signals stored with it."""

    id: int
    item: Item
    fetched_at: datetime
    signals: tuple[Signal, ...]


async def items_fetched_since(db: Sessions, since: datetime) -> list[StoredItem]:
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
        for start in range(0, len(ids), CHUNK):
            found = await session.exec(
                select(SignalRow)
                .where(col(SignalRow.item_id).in_(ids[start : start + CHUNK]))
                .order_by(col(SignalRow.id))
            )
            for signal in found:
                signals.setdefault(signal.item_id, []).append(signal_from_row(signal))
    return [
        StoredItem(
            id=row.id,
            item=item_from_row(row),
            fetched_at=row.fetched_at,
            signals=tuple(signals.get(row.id, ())),
        )
        for row in rows
        if row.id is not None
    ]


def item_from_row(row: ItemRow) -> Item:
    """The `Item` a stored row holds."""
    return Item(
        source=row.source,
        title=row.title,
        body=row.body,
        link=row.link,
        guid=row.guid,
        published=row.published,
        identity=row.identity,
        content_hash=row.content_hash,
    )


def signal_from_row(row: SignalRow) -> Signal:
    """The `Signal` a stored row holds (evidence and entities from their JSON columns)."""
    return Signal(
        type=row.type,
        direction=Direction(row.direction),
        severity=Severity(row.severity),
        score=row.score,
        rule=row.rule,
        evidence=tuple(_evidence(e) for e in row.evidence),
        entities=Entities(
            elements=tuple(row.entities.get("elements", [])),
            products=tuple(row.entities.get("products", [])),
            countries=tuple(row.entities.get("countries", [])),
        ),
        speculative=row.speculative,
    )


def _evidence(data: dict[str, Any]) -> Evidence:
    return Evidence(
        sentence=str(data.get("sentence", "")),
        spans=tuple(Span(int(a), int(b), str(c)) for a, b, c in data.get("spans", [])),
        in_title=bool(data.get("in_title")),
    )
