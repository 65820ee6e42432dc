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

from sqlalchemy import update
from sqlmodel import col, select

from watcher.domain.items import DigestEntry, DigestOutbound
from watcher.store.db import Database, insert_ignoring_conflicts
from watcher.store.outbox import (
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
from watcher.store.tables import DeliveryRow, DigestRow, ItemRow, SignalRow
from watcher.store.values import item_value, signal_value


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
    async with db.write() as session, session.begin():
        created = await session.exec(
            insert_ignoring_conflicts(
                session, DigestRow, values, ["subscriber", "period"]
            ).returning(col(DigestRow.id))
        )
        digest_id = created.scalar_one_or_none()
        if digest_id is None:
            return None
        attached = await session.exec(
            update(DeliveryRow)
            .where(
                col(DeliveryRow.subscriber) == subscriber,
                col(DeliveryRow.mode) == DIGEST,
                col(DeliveryRow.status) == PENDING,
                col(DeliveryRow.digest_id).is_(None),
                col(DeliveryRow.created_at) <= period_end,
            )
            .values(digest_id=digest_id)
        )
        entries = int(getattr(attached, "rowcount", 0) or 0)
        status = PENDING if entries or keep_empty else EMPTY
        await session.exec(
            update(DigestRow)
            .where(col(DigestRow.id) == digest_id)
            .values(entries=entries, status=status)
        )
    return entries


async def claim_digests(
    db: Database, *, now: datetime, lease: timedelta, limit: int
) -> tuple[str, datetime, list[DigestOutbound]]:
    """Lease due digests and load their entries; returns (owner, lease expiry, digests)."""
    owner, until, ids = await claim_rows(
        db, DigestRow, group=DigestRow.id, now=now, lease=lease, limit=limit
    )
    if not ids:
        return owner, until, []
    async with db() as session:
        digests = (await session.exec(select(DigestRow).where(col(DigestRow.id).in_(ids)))).all()
        rows = (
            await session.exec(
                select(DeliveryRow.digest_id, SignalRow, ItemRow)
                .join(SignalRow, col(SignalRow.id) == DeliveryRow.signal_id)
                .join(ItemRow, col(ItemRow.id) == DeliveryRow.item_id)
                .where(col(DeliveryRow.digest_id).in_(ids))
                .order_by(col(DeliveryRow.id))
            )
        ).all()
        others = await reporting_sources(session, {item.story_id for _, _, item in rows})
    entries: dict[int, list[DigestEntry]] = {}
    for digest_id, signal, item in rows:
        entry = DigestEntry(item_value(item), signal_value(signal), also_reported(others, item))
        entries.setdefault(digest_id or 0, []).append(entry)
    out = [
        DigestOutbound(
            digest_id=d.id or 0,
            message_id=d.message_id,
            subscriber=d.subscriber,
            period_end=d.period_end,
            attempts=d.attempts,
            entries=tuple(entries.get(d.id or 0, [])),
        )
        for d in sorted(digests, key=lambda d: d.id or 0)
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
        "attempts": DigestRow.attempts + 1,
        "lease_owner": None,
        "lease_until": None,
    }
    if status == SENT:
        values.update(sent_at=now, reply=(reply or "")[:MAX_ERROR_CHARS])
    if error is not None:
        values["last_error"] = error[:MAX_ERROR_CHARS]
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    async with db.write() as session, session.begin():
        await session.exec(update(DigestRow).where(col(DigestRow.id) == digest_id).values(values))
        if status in (SENT, DEAD):
            final: dict[str, Any] = {"status": status, "attempts": DeliveryRow.attempts + 1}
            if status == SENT:
                final.update(sent_at=now, reply=f"in digest {digest_id}")
            else:
                final["last_error"] = f"digest {digest_id} is a dead letter"
            await session.exec(
                update(DeliveryRow).where(col(DeliveryRow.digest_id) == digest_id).values(final)
            )


async def release_digests(db: Database, ids: Sequence[int], *, owner: str) -> None:
    """Give back claimed digests that were not attempted."""
    if not ids:
        return
    async with db.write() as session, session.begin():
        await session.exec(
            update(DigestRow)
            .where(col(DigestRow.id).in_(list(ids)), col(DigestRow.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )
