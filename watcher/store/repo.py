"""Reads and writes of the pipeline, each one transaction; callers get plain values back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.items import Direction, Entities, Evidence, Item, Severity, Signal, Span
from watcher.sources.result import Validators
from watcher.store.db import Sessions
from watcher.store.tables import DeliveryRow, ItemRow, SignalRow, SourceRow, StoryRow

PENDING, SENT, DEAD = "pending", "sent", "dead"
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class KnownItem:
    """What the store remembers of an item, enough to tell new from changed."""

    id: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class SaveCounts:
    """What one poll's transaction wrote."""

    new: int = 0
    revised: int = 0
    signals: int = 0
    queued: int = 0


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """An item to store, its signals, and who gets each signal type (addresses by type)."""

    item: Item
    signals: Sequence[Signal]
    recipients: Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class Outbound:
    """One email to send: a subscriber's due deliveries of one item, sharing a Message-ID."""

    message_id: str
    subscriber: str
    delivery_ids: tuple[int, ...]
    attempts: int
    item: Item
    signals: tuple[Signal, ...]


async def load_validators(db: Sessions, source: str) -> Validators:
    """The ETag / Last-Modified remembered for `source` (empty for a new source)."""
    async with db() as session:
        row = await session.get(SourceRow, source)
    if row is None:
        return Validators()
    return Validators(etag=row.etag, last_modified=row.last_modified)


async def known_items(db: Sessions, source: str, identities: Sequence[str]) -> dict[str, KnownItem]:
    """The stored items of `source` among `identities`, by identity (one query per 500)."""
    found: dict[str, KnownItem] = {}
    async with db() as session:
        for start in range(0, len(identities), 500):
            chunk = list(identities[start : start + 500])
            rows = await session.exec(
                select(ItemRow.identity, ItemRow.id, ItemRow.content_hash).where(
                    ItemRow.source == source, col(ItemRow.identity).in_(chunk)
                )
            )
            for identity, item_id, digest in rows:
                assert item_id is not None
                found[identity] = KnownItem(item_id, digest)
    return found


async def save_poll(
    db: Sessions,
    *,
    source: str,
    kind: str,
    validators: Validators,
    plans: Sequence[ItemPlan],
    domain: str,
    now: datetime,
) -> SaveCounts:
    """Items, their signals and the deliveries they cause, plus the source's success: one commit.

    A known identity with a new text is a revision: its row is updated, its signals
    re-derived; the outbox's unique key means only a signal type new to the story mails.
    """
    new = revised = signal_count = queued = 0
    async with db() as session, session.begin():
        state = await _source_row(session, source, kind)
        stored = await _items_by_identity(session, source, [p.item.identity for p in plans])
        for plan in plans:
            item, signals = plan.item, plan.signals
            row = stored.get(item.identity)
            if row is None:
                row = await _insert_item(session, item, now)
                new += 1
            else:
                _revise_item(row, item, now)
                revised += 1
            assert row.id is not None and row.story_id is not None
            signal_ids = await _upsert_signals(session, row, signals, now)
            signal_count += len(signals)
            queued += await _queue(session, row, plan.recipients, signal_ids, domain, now)
        state.polls += 1
        state.consecutive_failures = 0
        state.last_poll_at = state.last_success_at = now
        state.etag, state.last_modified = validators.etag, validators.last_modified
        if new:
            state.last_new_item_at = now
        session.add(state)
    return SaveCounts(new=new, revised=revised, signals=signal_count, queued=queued)


async def record_success(db: Sessions, *, source: str, kind: str, now: datetime) -> None:
    """A poll that changed nothing (304, or no new item): only the source's health moves."""
    async with db() as session, session.begin():
        state = await _source_row(session, source, kind)
        state.polls += 1
        state.consecutive_failures = 0
        state.last_poll_at = state.last_success_at = now
        session.add(state)


async def record_failure(
    db: Sessions, *, source: str, kind: str, error: str, now: datetime
) -> int:
    """Count a failed poll on the source's row; returns its consecutive failures."""
    async with db() as session, session.begin():
        state = await _source_row(session, source, kind)
        state.polls += 1
        state.failures_total += 1
        state.consecutive_failures += 1
        state.last_error = error[:MAX_ERROR_CHARS]
        state.last_poll_at = state.last_error_at = now
        session.add(state)
        return state.consecutive_failures


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
    await _update(db, ids, status=SENT, sent_at=now, reply=reply[:MAX_ERROR_CHARS],
                  attempts=DeliveryRow.attempts + 1)


async def mark_retry(db: Sessions, ids: Sequence[int], *, error: str, at: datetime) -> None:
    """A transient failure: try again at `at`."""
    await _update(db, ids, next_attempt_at=at, last_error=error[:MAX_ERROR_CHARS],
                  attempts=DeliveryRow.attempts + 1)


async def mark_dead(db: Sessions, ids: Sequence[int], *, error: str) -> None:
    """A permanent failure: a dead letter, kept with its reason, never retried by itself."""
    await _update(db, ids, status=DEAD, last_error=error[:MAX_ERROR_CHARS],
                  attempts=DeliveryRow.attempts + 1)


async def count_deliveries(db: Sessions) -> dict[str, int]:
    """Deliveries by status."""
    async with db() as session:
        rows = await session.exec(
            select(DeliveryRow.status, func.count()).group_by(col(DeliveryRow.status))
        )
        return {status: count for status, count in rows}


# --- helpers -------------------------------------------------------------------------


async def _update(db: Sessions, ids: Sequence[int], **values: Any) -> None:
    if not ids:
        return
    async with db() as session, session.begin():
        await session.exec(
            update(DeliveryRow).where(col(DeliveryRow.id).in_(list(ids))).values(**values)
        )


async def _source_row(session: AsyncSession, source: str, kind: str) -> SourceRow:
    row = await session.get(SourceRow, source)
    if row is None:
        row = SourceRow(name=source, kind=kind)
        session.add(row)
    return row


async def _items_by_identity(
    session: AsyncSession, source: str, identities: list[str]
) -> dict[str, ItemRow]:
    found: dict[str, ItemRow] = {}
    for start in range(0, len(identities), 500):
        chunk = identities[start : start + 500]
        rows = await session.exec(
            select(ItemRow).where(ItemRow.source == source, col(ItemRow.identity).in_(chunk))
        )
        found.update({row.identity: row for row in rows})
    return found


async def _insert_item(session: AsyncSession, item: Item, now: datetime) -> ItemRow:
    story = StoryRow(title=item.title, first_seen=now)
    session.add(story)
    await session.flush()
    row = ItemRow(
        source=item.source,
        identity=item.identity,
        guid=item.guid,
        link=item.link,
        title=item.title,
        body=item.body,
        published=item.published,
        fetched_at=now,
        content_hash=item.content_hash,
        story_id=story.id,
    )
    session.add(row)
    await session.flush()
    return row


def _revise_item(row: ItemRow, item: Item, now: datetime) -> None:
    row.title, row.body, row.link = item.title, item.body, item.link
    row.published = item.published or row.published
    row.content_hash = item.content_hash
    row.fetched_at = now
    row.revision += 1


async def _upsert_signals(
    session: AsyncSession, item: ItemRow, signals: Sequence[Signal], now: datetime
) -> dict[str, int]:
    """Store the item's signals (replacing same-type ones of an earlier revision); ids by type."""
    existing = {
        row.type: row
        for row in await session.exec(select(SignalRow).where(SignalRow.item_id == item.id))
    }
    ids: dict[str, int] = {}
    for signal in signals:
        data = signal.as_dict()
        row = existing.get(signal.type) or SignalRow(
            item_id=item.id or 0, type=signal.type, created_at=now, direction="", severity="",
            score=0.0, rule=""
        )
        row.story_id = item.story_id
        row.direction = signal.direction.value
        row.severity = signal.severity.value
        row.score = signal.score
        row.speculative = signal.speculative
        row.rule = signal.rule
        row.evidence = list(data["evidence"])  # type: ignore[call-overload]
        row.entities = signal.entities.as_dict()
        session.add(row)
        await session.flush()
        assert row.id is not None
        ids[signal.type] = row.id
    return ids


async def _queue(
    session: AsyncSession,
    item: ItemRow,
    recipients: Mapping[str, Sequence[str]],
    signal_ids: dict[str, int],
    domain: str,
    now: datetime,
) -> int:
    """Outbox rows for every (address, signal type); one already queued for the story is kept.

    One Message-ID per subscriber and item: the signals of one item reach a subscriber
    in one email, and the ID stays the same across retries.
    """
    values = []
    message_ids: dict[str, str] = {}
    for signal_type, addresses in recipients.items():
        for address in addresses:
            message_id = message_ids.setdefault(
                address, f"<{uuid.uuid4().hex}.{item.id}@{domain}>"
            )
            values.append(
                {
                    "subscriber": address,
                    "story_id": item.story_id,
                    "item_id": item.id,
                    "signal_id": signal_ids[signal_type],
                    "signal_type": signal_type,
                    "message_id": message_id,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if not values:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DeliveryRow).values(values).on_conflict_do_nothing(
        index_elements=["subscriber", "story_id", "signal_type"]
    )
    result = await session.exec(statement)
    return int(getattr(result, "rowcount", 0) or 0)


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
