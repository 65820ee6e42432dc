"""Digests in the store: produced once per (subscriber, period), then sent like any email.

`produce_digest` inserts the digest row and attaches the subscriber's waiting
deliveries to it in one transaction; the unique key (subscriber, period) makes a
second call — a restart, a catch-up run, another replica — a no-op. From then on the
digest's content is fixed, so every retry sends the same email with the same Message-ID.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, RowMapping, select, update

from watcher.domain.items import DigestEntry, DigestOutbound
from watcher.store.db import Database, insert_ignoring
from watcher.store.outbox import (
    CANCELLED,
    DEAD,
    DIGEST,
    EMPTY,
    MAX_ERROR_CHARS,
    PENDING,
    SENT,
    also_reported,
    claim_rows,
    reporting_sources,
)
from watcher.store.tables import DELIVERIES, DIGESTS, ITEMS, SIGNALS
from watcher.store.values import ITEM_PREFIX, SIGNAL_PREFIX, item_value, labelled, signal_value


def period_key(period_end: datetime) -> str:
    """The period's name in the unique key: its end in UTC, to the minute."""
    return period_end.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


async def produce_digest(
    db: Database,
    *,
    subscriber: str,
    period_end: datetime,
    domain: str,
    now: datetime,
    keep_empty: bool,
) -> int | None:
    """Create the subscriber's digest for the period ending at `period_end`, once.

    It takes every waiting digest delivery queued up to `period_end`. Returns the
    number of entries when this call produced it, None when it existed already. An
    empty digest is recorded as `empty` (never sent) unless `keep_empty`.
    """
    values: dict[str, Any] = {
        "subscriber": subscriber,
        "period": period_key(period_end),
        "period_end": period_end,
        "message_id": f"<digest.{uuid.uuid4().hex}@{domain}>",
        "status": PENDING,
        "next_attempt_at": now,
        "created_at": now,
    }
    d = DELIVERIES.c

    def produce(connection: Connection) -> int | None:
        created = connection.execute(
            insert_ignoring(connection, DIGESTS, ["subscriber", "period"])
            .values(values)
            .returning(DIGESTS.c.id)
        )
        digest_id = created.scalar_one_or_none()
        if digest_id is None:
            return None
        attached = connection.execute(
            update(DELIVERIES)
            .where(
                d.subscriber == subscriber,
                d.mode == DIGEST,
                d.status == PENDING,
                d.digest_id.is_(None),
                d.created_at <= period_end,
            )
            .values(digest_id=digest_id)
        )
        entries = int(attached.rowcount or 0)
        status = PENDING if entries or keep_empty else EMPTY
        connection.execute(
            update(DIGESTS).where(DIGESTS.c.id == digest_id).values(entries=entries, status=status)
        )
        return entries

    return await db.run_write(produce)


async def claim_digests(
    db: Database, *, now: datetime, lease: timedelta, limit: int
) -> tuple[str, datetime, list[DigestOutbound]]:
    """Lease due digests and load their entries; returns (owner, lease expiry, digests)."""
    owner, until, ids = await claim_rows(
        db, DIGESTS, group=DIGESTS.c.id, now=now, lease=lease, limit=limit
    )
    if not ids:
        return owner, until, []
    entries_query = labelled(
        select(DELIVERIES.c.digest_id, SIGNALS, ITEMS)
        .join(SIGNALS, SIGNALS.c.id == DELIVERIES.c.signal_id)
        .join(ITEMS, ITEMS.c.id == DELIVERIES.c.item_id)
        .where(DELIVERIES.c.digest_id.in_(ids))
        .order_by(DELIVERIES.c.id)
    )

    def read(
        connection: Connection,
    ) -> tuple[Sequence[Row[Any]], list[RowMapping], dict[int, set[str]]]:
        digests = connection.execute(
            select(DIGESTS).where(DIGESTS.c.id.in_(ids)).order_by(DIGESTS.c.id)
        ).all()
        rows = [row._mapping for row in connection.execute(entries_query)]
        others = reporting_sources(connection, {row["items_story_id"] for row in rows})
        return digests, rows, others

    digests, rows, others = await db.run_read(read)
    entries: dict[int, list[DigestEntry]] = {}
    for row in rows:
        item = item_value(row, ITEM_PREFIX)
        entry = DigestEntry(
            item,
            signal_value(row, SIGNAL_PREFIX),
            also_reported(others, row["items_story_id"], item.source),
        )
        entries.setdefault(row["deliveries_digest_id"] or 0, []).append(entry)
    out = [
        DigestOutbound(
            digest_id=d.id,
            message_id=d.message_id,
            subscriber=d.subscriber,
            period_end=d.period_end,
            attempts=d.attempts,
            entries=tuple(entries.get(d.id, [])),
        )
        for d in digests
    ]
    return owner, until, out


async def mark_digest(
    db: Database,
    digest_id: int,
    *,
    status: str,
    now: datetime | None = None,
    reply: str | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record an attempt's outcome on the digest and, when final, on its deliveries.

    `now` is the sent time (only for `sent`); `retry_at` the next attempt (for `pending`).
    """
    values: dict[str, Any] = {
        "status": status,
        "attempts": DIGESTS.c.attempts + 1,
        "lease_owner": None,
        "lease_until": None,
    }
    if status == SENT:
        values.update(sent_at=now, reply=(reply or "")[:MAX_ERROR_CHARS])
    if error is not None:
        values["last_error"] = error[:MAX_ERROR_CHARS]
    if retry_at is not None:
        values["next_attempt_at"] = retry_at

    def mark(connection: Connection) -> None:
        connection.execute(update(DIGESTS).where(DIGESTS.c.id == digest_id).values(values))
        if status in (SENT, DEAD, CANCELLED):
            final: dict[str, Any] = {"status": status, "attempts": DELIVERIES.c.attempts + 1}
            if status == SENT:
                final.update(sent_at=now, reply=f"in digest {digest_id}")
            elif status == CANCELLED:
                final["attempts"] = DELIVERIES.c.attempts
            else:
                final["last_error"] = f"digest {digest_id} is a dead letter"
            connection.execute(
                update(DELIVERIES).where(DELIVERIES.c.digest_id == digest_id).values(final)
            )

    await db.run_write(mark)


async def release_digests(db: Database, ids: Sequence[int], *, owner: str) -> None:
    """Give back claimed digests that were not attempted."""
    if not ids:
        return
    statement = (
        update(DIGESTS)
        .where(DIGESTS.c.id.in_(list(ids)), DIGESTS.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )
    await db.run_write(lambda connection: connection.execute(statement))
