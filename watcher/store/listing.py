"""Read-only views of the store for the CLI: sources, signals, items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from watcher.store.db import Database
from watcher.store.outbox import IMMEDIATE, PENDING
from watcher.store.tables import DELIVERIES, ITEMS, SIGNALS, SOURCES


@dataclass(frozen=True, slots=True)
class SourceLine:
    """A source's health as its row records it."""

    name: str
    kind: str
    polls: int
    consecutive_failures: int
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ItemLine:
    """A stored item, as `watcher items` lists it."""

    fetched_at: datetime
    source: str
    title: str
    published: datetime | None
    revision: int
    link: str | None


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
    d = DELIVERIES.c
    pending = select(func.count()).select_from(DELIVERIES).where(d.status == PENDING)
    oldest = select(func.min(d.created_at)).where(
        d.status == PENDING,
        d.next_attempt_at <= now,
        d.mode == IMMEDIATE,  # digest rows wait for their period
    )

    def read(connection: Connection) -> tuple[int, datetime | None]:
        return connection.execute(pending).scalar_one(), connection.execute(oldest).scalar()

    count, first = await db.run_read(read)
    age = (now - first).total_seconds() if first is not None else 0.0
    return OutboxStats(pending=int(count), oldest_due_seconds=max(age, 0.0))


async def count_failing_sources(db: Database) -> int:
    """Sources whose most recent poll failed."""
    query = select(func.count()).select_from(SOURCES).where(SOURCES.c.consecutive_failures > 0)
    return int(await db.run_read(lambda connection: connection.execute(query).scalar_one()))


async def ping(db: Database) -> None:
    """Raise if the database does not answer a trivial query."""
    await db.run_read(lambda connection: connection.execute(select(1)).scalar_one())


async def list_sources(db: Database) -> list[SourceLine]:
    """Every source's health, by name."""
    c = SOURCES.c
    query = select(
        c.name,
        c.kind,
        c.polls,
        c.consecutive_failures,
        c.last_success_at,
        c.last_new_item_at,
        c.last_error,
    ).order_by(c.name)
    rows = await db.run_read(lambda connection: connection.execute(query).all())
    return [SourceLine(*row) for row in rows]


async def list_signals(
    db: Database, *, since: datetime, signal_type: str | None = None, limit: int = 500
) -> list[SignalLine]:
    """Signals stored since `since`, newest first, optionally of one type."""
    s, i = SIGNALS.c, ITEMS.c
    query = (
        select(
            s.created_at,
            s.type,
            s.direction,
            s.severity,
            s.score,
            s.speculative,
            i.source,
            i.title,
            i.link,
            s.evidence,
        )
        .join(ITEMS, i.id == s.item_id)
        .where(s.created_at >= since)
        .order_by(s.created_at.desc(), s.id.desc())
        .limit(limit)
    )
    if signal_type:
        query = query.where(s.type == signal_type)
    rows = await db.run_read(lambda connection: connection.execute(query).all())
    return [
        SignalLine(
            created_at=row.created_at,
            type=row.type,
            direction=row.direction,
            severity=row.severity,
            score=row.score,
            speculative=row.speculative,
            source=row.source,
            title=row.title,
            link=row.link,
            evidence=str(row.evidence[0]["marked"]) if row.evidence else "",
        )
        for row in rows
    ]


async def list_items(db: Database, *, since: datetime, limit: int = 500) -> list[ItemLine]:
    """Items fetched since `since`, newest first."""
    i = ITEMS.c
    query = (
        select(i.fetched_at, i.source, i.title, i.published, i.revision, i.link)
        .where(i.fetched_at >= since)
        .order_by(i.fetched_at.desc(), i.id.desc())
        .limit(limit)
    )
    rows = await db.run_read(lambda connection: connection.execute(query).all())
    return [ItemLine(*row) for row in rows]
