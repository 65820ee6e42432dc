"""What one poll writes: items, stories, signals and outbox rows, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.items import Item, Signal
from watcher.sources.result import Validators
from watcher.store.db import Sessions, insert_ignoring_conflicts
from watcher.store.outbox import IMMEDIATE, PENDING
from watcher.store.source_state import mark_success, source_row
from watcher.store.stories import load_candidates, lock_story_assignment
from watcher.store.tables import DeliveryRow, ItemRow, SignalRow, StoryRow
from watcher.stories import Candidate, Sketch, best_story, encode_sketch, sketch_text


@dataclass(frozen=True, slots=True)
class SaveCounts:
    """What one poll's transaction wrote."""

    new: int = 0
    revised: int = 0
    signals: int = 0
    queued: int = 0


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """An item to store, its signals, and who gets each signal type (addresses by type).

    `modes` maps an address to `digest` when that subscriber reads digests; any other
    address is mailed immediately.
    """

    item: Item
    signals: Sequence[Signal]
    recipients: Mapping[str, Sequence[str]]
    modes: Mapping[str, str] = field(default_factory=dict)


async def save_poll(
    db: Sessions,
    *,
    source: str,
    kind: str,
    validators: Validators,
    plans: Sequence[ItemPlan],
    domain: str,
    now: datetime,
    next_poll_at: datetime | None = None,
    story_window: timedelta = timedelta(days=7),
) -> SaveCounts:
    """Items, their signals and the deliveries they cause, plus the source's success: one commit.

    A new item joins the story of a near-duplicate from another source within
    `story_window` (`watcher.stories`), else starts its own. A known identity with a new
    text is a revision: its row is updated, its signals re-derived. The outbox's unique
    key (subscriber, story, signal type) means only a signal type new to the story mails.
    """
    new = revised = signal_count = queued = 0
    async with db.write() as session, session.begin():
        state = await source_row(session, source, kind, now)
        stored = await _items_by_identity(session, source, [p.item.identity for p in plans])
        fresh = [p.item for p in plans if p.item.identity not in stored]
        if fresh:
            await lock_story_assignment(session)
        candidates = await _candidates(session, source, fresh, now, story_window)
        for plan in plans:
            item, signals = plan.item, plan.signals
            row = stored.get(item.identity)
            sketch = sketch_text(item.title, item.body)
            if row is None:
                when = item.published or now
                story_id = best_story(sketch, source, when, story_window, candidates)
                row = await _insert_item(session, item, now, sketch, story_id)
                assert row.story_id is not None
                candidates.append(Candidate(row.story_id, source, when, sketch))
                new += 1
            else:
                _revise_item(row, item, now, sketch)
                revised += 1
            assert row.id is not None
            assert row.story_id is not None
            signal_ids = await _upsert_signals(session, row, signals, now)
            signal_count += len(signals)
            queued += await _queue(session, row, plan, signal_ids, domain, now)
        mark_success(state, now, next_poll_at)
        state.etag, state.last_modified = validators.etag, validators.last_modified
        if new:
            state.last_new_item_at = now
        session.add(state)
    return SaveCounts(new=new, revised=revised, signals=signal_count, queued=queued)


# --- helpers -------------------------------------------------------------------------


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


async def _candidates(
    session: AsyncSession, source: str, items: list[Item], now: datetime, window: timedelta
) -> list[Candidate]:
    if not items:
        return []
    times = [item.published or now for item in items]
    return await load_candidates(
        session, source=source, start=min(times) - window, end=max(times) + window
    )


async def _insert_item(
    session: AsyncSession, item: Item, now: datetime, sketch: Sketch, story_id: int | None
) -> ItemRow:
    if story_id is None:
        story = StoryRow(title=item.title, first_seen=now)
        session.add(story)
        await session.flush()
        story_id = story.id
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
        story_id=story_id,
        fingerprint=encode_sketch(sketch),
    )
    session.add(row)
    await session.flush()
    return row


def _revise_item(row: ItemRow, item: Item, now: datetime, sketch: Sketch) -> None:
    row.title, row.body, row.link = item.title, item.body, item.link
    row.fingerprint = encode_sketch(sketch)
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
            item_id=item.id or 0,
            type=signal.type,
            created_at=now,
            direction="",
            severity="",
            score=0.0,
            rule="",
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
    plan: ItemPlan,
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
    for signal_type, addresses in plan.recipients.items():
        for address in addresses:
            message_id = message_ids.setdefault(address, f"<{uuid.uuid4().hex}.{item.id}@{domain}>")
            values.append(
                {
                    "subscriber": address,
                    "story_id": item.story_id,
                    "item_id": item.id,
                    "signal_id": signal_ids[signal_type],
                    "signal_type": signal_type,
                    "mode": plan.modes.get(address, IMMEDIATE),
                    "message_id": message_id,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if not values:
        return 0
    result = await session.exec(
        insert_ignoring_conflicts(
            session, DeliveryRow, values, ["subscriber", "story_id", "signal_type"]
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
