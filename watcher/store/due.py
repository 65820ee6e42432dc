"""Which sources are due, decided from their rows: the one place the scheduler asks.

A source is due when its row's `next_poll_at` is NULL or not after now. Starting
polls *claims* due rows in one transaction: `SELECT … FOR UPDATE SKIP LOCKED` picks
rows no other replica is claiming at that moment (SQLite ignores the clause; its
`BEGIN IMMEDIATE` write transaction serialises claimers instead), and the same
transaction moves each row's `next_poll_at` to the end of a lease (the poll's timeout
plus a margin). So two ticks, or two replicas, never poll one source at once, and a
poll whose replica died is retried by another when its lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.engine import Row

from watcher.config import Source
from watcher.store.db import Database, insert_ignoring
from watcher.store.tables import SOURCES


async def sync_sources(
    db: Database, sources: Iterable[Source], keys: dict[str, str], now: datetime
) -> None:
    """Create rows for new sources (due now); re-plan rows whose schedule changed.

    Safe when several replicas start at once: new rows are inserted with ON CONFLICT
    DO NOTHING. A re-planned row is due now unless it is backing off after failures.
    Rows are read first and only the missing ones inserted: on every start but the first
    all exist, and the insert of every source's row (one multi-row statement, compiled
    anew for each length) was most of this transaction's time.
    """
    sources = list(sources)
    if not sources:
        return
    c = SOURCES.c

    def read(connection: Connection, names: list[str]) -> dict[str, Row[Any]]:
        query = select(c.name, c.schedule, c.kind, c.backoff_until).where(c.name.in_(names))
        return {row.name: row for row in connection.execute(query)}

    def sync(connection: Connection) -> None:
        by_name = read(connection, [s.name for s in sources])
        missing = [s for s in sources if s.name not in by_name]
        if missing:
            new_rows = [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "added_at": now,
                    "schedule": keys[s.name],
                    "polls": 0,
                    "failures_total": 0,
                    "consecutive_failures": 0,
                }
                for s in missing
            ]
            connection.execute(insert_ignoring(connection, SOURCES, ["name"]).values(new_rows))
            # another replica may have inserted some of them meanwhile: read what is there
            by_name |= read(connection, [s.name for s in missing])
        for source in sources:
            row = by_name[source.name]
            if row.schedule == keys[source.name] and row.kind == source.kind:
                continue
            values: dict[str, object] = {"schedule": keys[source.name], "kind": source.kind}
            if row.backoff_until is None or row.backoff_until <= now:
                values["next_poll_at"] = None
            connection.execute(update(SOURCES).where(c.name == source.name).values(values))

    await db.run_write(sync)


async def claim_due_sources(
    db: Database, names: Sequence[str], now: datetime, leases: Mapping[str, datetime], limit: int
) -> list[str]:
    """Claim up to `limit` of `names` that are due, soonest first; each until its lease end.

    Rows another replica is claiming right now are skipped, not waited for.
    """
    if not names or limit <= 0:
        return []
    c = SOURCES.c
    pick = (
        select(c.name)
        .where(c.name.in_(list(names)), or_(c.next_poll_at.is_(None), c.next_poll_at <= now))
        .order_by(c.next_poll_at.asc().nulls_first())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )

    def claim(connection: Connection) -> list[str]:
        picked = list(connection.execute(pick).scalars())
        for name in picked:
            connection.execute(
                update(SOURCES).where(c.name == name).values(next_poll_at=leases[name])
            )
        return picked

    return await db.run_write(claim)


async def next_poll_due(db: Database, names: Sequence[str], now: datetime) -> datetime | None:
    """When the first of `names` is due (`now` if one is due already); None without sources."""
    if not names:
        return None
    c = SOURCES.c
    rows = select(c.next_poll_at).where(c.name.in_(list(names)))

    def read(connection: Connection) -> datetime | None:
        times: list[datetime | None] = list(connection.execute(rows).scalars())
        planned = [t if t.tzinfo else t.replace(tzinfo=now.tzinfo) for t in times if t]
        if not times or len(planned) < len(times):
            return now
        return max(min(planned), now)

    due: datetime | None = await db.run_read(read)
    return due
