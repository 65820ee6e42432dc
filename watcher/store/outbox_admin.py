"""What `watcher outbox` shows and does: list unsent rows, requeue failed and dead ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update

from watcher.store.db import Database
from watcher.store.outbox import DEAD, DIGEST, PENDING
from watcher.store.tables import DELIVERIES, DIGESTS, ITEMS


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
    d, g = DELIVERIES.c, DIGESTS.c
    deliveries = (
        select(DELIVERIES, ITEMS.c.title)
        .join(ITEMS, ITEMS.c.id == d.item_id)
        .where(d.status.in_([PENDING, DEAD]), or_(d.digest_id.is_(None), d.status == DEAD))
        .order_by(d.id)
        .limit(limit)
    )
    digests = select(DIGESTS).where(g.status.in_([PENDING, DEAD])).order_by(g.id).limit(limit)

    def read(connection: Connection) -> tuple[Sequence[Row[Any]], Sequence[Row[Any]]]:
        return connection.execute(deliveries).all(), connection.execute(digests).all()

    delivery_rows, digest_rows = await db.run_read(read)
    out: list[OutboxEntry] = []
    for row in delivery_rows:
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
                what=f"{row.signal_type}: {row.title[:70]}",
                error=row.last_error,
            )
        )
    out.extend(
        OutboxEntry(
            id=f"D{digest.id}",
            state=state_of(digest.status, digest.attempts, digest.lease_until, now),
            attempts=digest.attempts,
            next_attempt_at=digest.next_attempt_at,
            subscriber=digest.subscriber,
            what=f"digest {digest.period}, {digest.entries} signals",
            error=digest.last_error,
        )
        for digest in digest_rows
    )
    return out


@dataclass(frozen=True, slots=True)
class Requeued:
    """What `requeue` did: rows made due, and the ids given that name no row at all."""

    rows: int
    unknown: tuple[str, ...]


def parse_outbox_id(text: str) -> tuple[str, int] | None:
    """`12` → ("delivery", 12), `D3` → ("digest", 3); None for anything else."""
    if text.isdigit():
        return "delivery", int(text)
    if text[:1] in "Dd" and text[1:].isdigit():
        return "digest", int(text[1:])
    return None


async def requeue(
    db: Database, *, ids: Sequence[str] = (), dead: bool = False, now: datetime
) -> Requeued:
    """Make the given rows (or every dead one) due now with a fresh attempt budget.

    `ids` are delivery ids (`12`) or digest ids (`D3`; see `parse_outbox_id`); a delivery
    that is part of a digest requeues its digest. Sent rows are never requeued.
    """
    parsed = {text: parse_outbox_id(text) for text in ids}
    delivery_ids = [p[1] for p in parsed.values() if p and p[0] == "delivery"]
    digest_ids = [p[1] for p in parsed.values() if p and p[0] == "digest"]
    fresh: dict[str, Any] = {
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_owner": None,
        "lease_until": None,
    }
    d, g = DELIVERIES.c, DIGESTS.c

    def requeue_rows(connection: Connection) -> Requeued:
        known_deliveries = set(
            connection.execute(select(d.id).where(d.id.in_(delivery_ids))).scalars()
        )
        known_digests = set(connection.execute(select(g.id).where(g.id.in_(digest_ids))).scalars())
        known = {"delivery": known_deliveries, "digest": known_digests}
        unknown = tuple(text for text, p in parsed.items() if p is None or p[1] not in known[p[0]])
        if delivery_ids:
            linked = connection.execute(
                select(d.digest_id).where(d.id.in_(delivery_ids), d.digest_id.is_not(None))
            )
            digest_ids.extend(i for i in linked.scalars() if i is not None)
        digest_filter = g.status == DEAD if dead else g.id.in_(digest_ids)
        requeued_digests = list(
            connection.execute(
                update(DIGESTS)
                .where(digest_filter, g.status.in_([PENDING, DEAD]))
                .values(fresh)
                .returning(g.id)
            ).scalars()
        )
        delivery_filter = d.status == DEAD if dead else d.id.in_(delivery_ids)
        hits = connection.execute(
            update(DELIVERIES)
            .where(
                or_(delivery_filter, d.digest_id.in_(requeued_digests)),
                d.status.in_([PENDING, DEAD]),
            )
            .values(fresh)
        )
        return Requeued(int(hits.rowcount or 0) + len(requeued_digests), unknown)

    return await db.run_write(requeue_rows)
