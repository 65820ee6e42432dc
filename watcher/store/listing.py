"""Read-only views of the store for the CLI: sources, signals, items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from watcher.store.db import Sessions
from watcher.store.tables import ItemRow, SignalRow, SourceRow


@dataclass(frozen=True, slots=True)
class SignalLine:
    """A stored signal with the item it came from."""

    created_at: datetime
    type: str
    direction: str
    severity: str
    score: float
    speculative: bool
    source: str
    title: str
    link: str | None
    evidence: str


async def list_sources(db: Sessions) -> list[SourceRow]:
    """Every source's state row, by name."""
    async with db() as session:
        return list((await session.exec(select(SourceRow).order_by(col(SourceRow.name)))).all())


async def list_signals(
    db: Sessions, *, since: datetime, signal_type: str | None = None, limit: int = 500
) -> list[SignalLine]:
    """Signals stored since `since`, newest first, optionally of one type."""
    query = (
        select(SignalRow, ItemRow)
        .join(ItemRow, col(ItemRow.id) == SignalRow.item_id)
        .where(SignalRow.created_at >= since)
        .order_by(col(SignalRow.created_at).desc(), col(SignalRow.id).desc())
        .limit(limit)
    )
    if signal_type:
        query = query.where(SignalRow.type == signal_type)
    async with db() as session:
        rows = (await session.exec(query)).all()
    return [
        SignalLine(
            created_at=signal.created_at,
            type=signal.type,
            direction=signal.direction,
            severity=signal.severity,
            score=signal.score,
            speculative=signal.speculative,
            source=item.source,
            title=item.title,
            link=item.link,
            evidence=str(signal.evidence[0]["marked"]) if signal.evidence else "",
        )
        for signal, item in rows
    ]


async def list_items(db: Sessions, *, since: datetime, limit: int = 500) -> list[ItemRow]:
    """Items fetched since `since`, newest first."""
    async with db() as session:
        rows = await session.exec(
            select(ItemRow)
            .where(ItemRow.fetched_at >= since)
            .order_by(col(ItemRow.fetched_at).desc(), col(ItemRow.id).desc())
            .limit(limit)
        )
        return list(rows.all())
