"""Which sources are due, decided from their rows: the one place the scheduler asks.

A source is due when its row's `next_poll_at` is NULL or not after now. Starting a
poll *claims* the row with a conditional UPDATE that moves `next_poll_at` to the end
of a lease (the poll's timeout); only one claimer can win, so two ticks, or later two
replicas, never poll one source at once, and a poll that dies mid-way is retried when
its lease runs out. (With PostgreSQL, the same claim can become
`SELECT … FOR UPDATE SKIP LOCKED`; the rows already hold everything it needs.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select

from watcher.config import Source
from watcher.store.db import Sessions
from watcher.store.tables import SourceRow


async def sync_sources(
    db: Sessions, sources: Iterable[Source], keys: dict[str, str], now: datetime
) -> None:
    """Create rows for new sources (due now); re-plan rows whose schedule changed.

    A re-planned row is due now unless it is backing off after failures.
    """
    async with db.write() as session, session.begin():
        for source in sources:
            row = await session.get(SourceRow, source.name)
            if row is None:
                row = SourceRow(name=source.name, kind=source.kind, added_at=now)
            elif row.schedule == keys[source.name]:
                continue
            elif row.backoff_until is None or row.backoff_until <= now:
                row.next_poll_at = None
            row.schedule = keys[source.name]
            row.kind = source.kind
            session.add(row)


async def due_sources(db: Sessions, names: Sequence[str], now: datetime) -> list[str]:
    """Those of `names` whose rows say they are due, soonest first."""
    if not names:
        return []
    async with db() as session:
        rows = await session.exec(
            select(SourceRow.name)
            .where(
                col(SourceRow.name).in_(list(names)),
                or_(col(SourceRow.next_poll_at).is_(None), col(SourceRow.next_poll_at) <= now),
            )
            .order_by(col(SourceRow.next_poll_at).asc())
        )
        return list(rows.all())


async def claim_source(db: Sessions, name: str, now: datetime, lease_until: datetime) -> bool:
    """Take the due source `name` until `lease_until`; False when it is not due (any more)."""
    async with db.write() as session, session.begin():
        result = await session.exec(
            update(SourceRow)
            .where(
                col(SourceRow.name) == name,
                or_(col(SourceRow.next_poll_at).is_(None), col(SourceRow.next_poll_at) <= now),
            )
            .values(next_poll_at=lease_until)
        )
        return bool(getattr(result, "rowcount", 0))
