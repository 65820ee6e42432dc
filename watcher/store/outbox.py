"""The outbox: deliveries due for sending, and the record of every attempt's outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select

from watcher.items import Direction, Entities, Evidence, Item, Outbound, Severity, Signal, Span
from watcher.store.db import Sessions
from watcher.store.tables import DeliveryRow, ItemRow, SignalRow

PENDING, SENT, DEAD = "pending", "sent", "dead"
MAX_ERROR_CHARS = 2000


async def due_outbound(db: Sessions, *, now: datetime, limit: int) -> list[Outbound]:
    """Pending deliveries due by `now`, grouped into emails (one per Message-ID)."""
    async with db() as session:
        rows = (
            await session.exec(
                select(DeliveryRow, SignalRow, ItemRow)
                .join(SignalRow, col(SignalRow.id) == DeliveryRow.signal_id)
                .join(ItemRow, col(ItemRow.id) == DeliveryRow.item_id)
                .where(DeliveryRow.status == PENDING, DeliveryRow.next_attempt_at <= now)
                .order_by(col(DeliveryRow.id))
                .limit(limit)
            )
        ).all()
    groups: dict[str, list[tuple[DeliveryRow, SignalRow, ItemRow]]] = {}
    for delivery, signal, item in rows:
        groups.setdefault(delivery.message_id, []).append((delivery, signal, item))
    out = []
    for message_id, members in groups.items():
        first_delivery, _, item_row = members[0]
        out.append(
            Outbound(
                message_id=message_id,
                subscriber=first_delivery.subscriber,
                delivery_ids=tuple(d.id for d, _, _ in members if d.id is not None),
                attempts=max(d.attempts for d, _, _ in members),
                item=_item_value(item_row),
                signals=tuple(_signal_value(s) for _, s, _ in members),
            )
        )
    return out


async def mark_sent(db: Sessions, ids: Sequence[int], *, reply: str, now: datetime) -> None:
    """The email went out: never send these deliveries again."""
    await _update(
        db,
        ids,
        status=SENT,
        sent_at=now,
        reply=reply[:MAX_ERROR_CHARS],
        attempts=DeliveryRow.attempts + 1,
    )


async def mark_retry(db: Sessions, ids: Sequence[int], *, error: str, at: datetime) -> None:
    """A transient failure: try again at `at`."""
    await _update(
        db,
        ids,
        next_attempt_at=at,
        last_error=error[:MAX_ERROR_CHARS],
        attempts=DeliveryRow.attempts + 1,
    )


async def mark_dead(db: Sessions, ids: Sequence[int], *, error: str) -> None:
    """A permanent failure: a dead letter, kept with its reason, never retried by itself."""
    await _update(
        db, ids, status=DEAD, last_error=error[:MAX_ERROR_CHARS], attempts=DeliveryRow.attempts + 1
    )


async def count_deliveries(db: Sessions) -> dict[str, int]:
    """Deliveries by status."""
    async with db() as session:
        rows = await session.exec(
            select(DeliveryRow.status, func.count()).group_by(col(DeliveryRow.status))
        )
        return dict(rows.all())


# --- helpers -------------------------------------------------------------------------


async def _update(db: Sessions, ids: Sequence[int], **values: Any) -> None:
    if not ids:
        return
    async with db() as session, session.begin():
        await session.exec(
            update(DeliveryRow).where(col(DeliveryRow.id).in_(list(ids))).values(**values)
        )


def _item_value(row: ItemRow) -> Item:
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


def _signal_value(row: SignalRow) -> Signal:
    evidence = tuple(
        Evidence(
            sentence=e["sentence"],
            spans=tuple(Span(int(a), int(b), str(c)) for a, b, c in e.get("spans", [])),
            in_title=bool(e.get("in_title")),
        )
        for e in row.evidence
    )
    entities = Entities(
        elements=tuple(row.entities.get("elements", [])),
        products=tuple(row.entities.get("products", [])),
        countries=tuple(row.entities.get("countries", [])),
    )
    return Signal(
        type=row.type,
        direction=Direction(row.direction),
        severity=Severity(row.severity),
        score=row.score,
        rule=row.rule,
        evidence=evidence,
        entities=entities,
        speculative=row.speculative,
    )
