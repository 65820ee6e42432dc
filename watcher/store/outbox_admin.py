"""What `watcher outbox` shows and does: list unsent rows, requeue failed and dead ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select

from watcher.store.db import Database
from watcher.store.outbox import DEAD, DIGEST, PENDING
from watcher.store.tables import DeliveryRow, DigestRow, ItemRow


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One unsent delivery or digest, as the CLI lists it."""

    id: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    subscriber: str
    what: str
    error: str | None


def state_of(status: str, attempts: int, lease_until: datetime | None, now: datetime) -> str:
    """`dead`, `sending` (leased now), `failed` (pending after a failure) or `pending`."""
    if status == DEAD:
        return "dead"
    if lease_until is not None and lease_until > now:
        return "sending"
    return "failed" if attempts else "pending"


async def list_outbox(db: Database, *, now: datetime, limit: int = 500) -> list[OutboxEntry]:
    """Unsent deliveries and digests (pending, failed, dead), oldest first."""
    out: list[OutboxEntry] = []
    async with db() as session:
        rows = await session.exec(
            select(DeliveryRow, ItemRow.title)
            .join(ItemRow, col(ItemRow.id) == DeliveryRow.item_id)
            .where(
                col(DeliveryRow.status).in_([PENDING, DEAD]),
                or_(col(DeliveryRow.digest_id).is_(None), col(DeliveryRow.status) == DEAD),
            )
            .order_by(col(DeliveryRow.id))
            .limit(limit)
        )
        for row, title in rows:
            state = state_of(row.status, row.attempts, row.lease_until, now)
            if row.mode == DIGEST and row.status == PENDING:
                state = "digest"  # waits for the subscriber's next digest
            out.append(
                OutboxEntry(
                    id=str(row.id),
                    state=state,
                    attempts=row.attempts,
                    next_attempt_at=row.next_attempt_at if row.mode != DIGEST else None,
                    subscriber=row.subscriber,
                    what=f"{row.signal_type}: {title[:70]}",
                    error=row.last_error,
                )
            )
        digests = await session.exec(
            select(DigestRow)
            .where(col(DigestRow.status).in_([PENDING, DEAD]))
            .order_by(col(DigestRow.id))
            .limit(limit)
        )
        for digest in digests:
            out.append(
                OutboxEntry(
                    id=f"D{digest.id}",
                    state=state_of(digest.status, digest.attempts, digest.lease_until, now),
                    attempts=digest.attempts,
                    next_attempt_at=digest.next_attempt_at,
                    subscriber=digest.subscriber,
                    what=f"digest {digest.period}, {digest.entries} signals",
                    error=digest.last_error,
                )
            )
    return out


async def requeue(
    db: Database, *, ids: Sequence[str] = (), dead: bool = False, now: datetime
) -> int:
    """Make the given rows (or every dead one) due now with a fresh attempt budget.

    `ids` are delivery ids (`12`) or digest ids (`D3`); a delivery that is part of a
    digest requeues its digest. Sent rows are never requeued. Returns the rows requeued.
    """
    delivery_ids = [int(i) for i in ids if i.isdigit()]
    digest_ids = [int(i[1:]) for i in ids if i[:1] in "Dd" and i[1:].isdigit()]
    fresh: dict[str, Any] = {
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_owner": None,
        "lease_until": None,
    }
    async with db.write() as session, session.begin():
        if delivery_ids:
            linked = await session.exec(
                select(DeliveryRow.digest_id).where(
                    col(DeliveryRow.id).in_(delivery_ids), col(DeliveryRow.digest_id).is_not(None)
                )
            )
            digest_ids.extend(d for d in linked if d is not None)
        digest_filter = col(DigestRow.status) == DEAD if dead else col(DigestRow.id).in_(digest_ids)
        digest_hits = await session.exec(
            update(DigestRow)
            .where(digest_filter, col(DigestRow.status).in_([PENDING, DEAD]))
            .values(fresh)
            .returning(col(DigestRow.id))
        )
        requeued_digests = list(digest_hits.scalars().all())
        delivery_filter = (
            col(DeliveryRow.status) == DEAD if dead else col(DeliveryRow.id).in_(delivery_ids)
        )
        hits = await session.exec(
            update(DeliveryRow)
            .where(
                or_(delivery_filter, col(DeliveryRow.digest_id).in_(requeued_digests)),
                col(DeliveryRow.status).in_([PENDING, DEAD]),
            )
            .values(fresh)
        )
        return int(getattr(hits, "rowcount", 0) or 0) + len(requeued_digests)
