"""Read-only views of the store for the CLI: sources, signals, items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, func, select

from watcher.store.db import Database
from watcher.store.outbox import IMMEDIATE, PENDING
from watcher.store.tables import DeliveryRow, ItemRow, SignalRow, SourceRow


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


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """How much waits in the outbox, and for how long the oldest due row has waited."""

    pending: int
    oldest_due_seconds: float


async def outbox_stats(db: Database, now: datetime) -> OutboxStats:
    """Pending deliveries and the age of the oldest one that is due."""
    async with db() as session:
        pending = (
            await session.exec(
                select(func.count()).select_from(DeliveryRow).where(DeliveryRow.status == PENDING)
            )
        ).one()
        oldest = (
            await session.exec(
                select(func.min(DeliveryRow.created_at)).where(
                    DeliveryRow.status == PENDING,
                    DeliveryRow.next_attempt_at <= now,
                    DeliveryRow.mode == IMMEDIATE,  # digest rows wait for their period
                )
            )
        ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    return OutboxStats(pending=int(pending), oldest_due_seconds=max(age, 0.0))


async def count_failing_sources(db: Database) -> int:
    """Sources whose most recent poll failed."""
    async with db() as session:
        return int(
            (
                await session.exec(
                    select(func.count())
                    .select_from(SourceRow)
                    .where(SourceRow.consecutive_failures > 0)
                )
            ).one()
        )


async def ping(db: Database) -> None:
    """Raise if the database does not answer a trivial query."""
    async with db() as session:
        await session.exec(select(1))


async def list_sources(db: Database) -> list[SourceRow]:
    """Every source's state row, by name."""
    async with db() as session:
        return list((await session.exec(select(SourceRow).order_by(col(SourceRow.name)))).all())


async def list_signals(
    db: Database, *, since: datetime, signal_type: str | None = None, limit: int = 500
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


async def list_items(db: Database, *, since: datetime, limit: int = 500) -> list[ItemRow]:
    """Items fetched since `since`, newest first."""
    async with db() as session:
        rows = await session.exec(
            select(ItemRow)
            .where(ItemRow.fetched_at >= since)
            .order_by(col(ItemRow.fetched_at).desc(), col(ItemRow.id).desc())
            .limit(limit)
        )
        return list(rows.all())
