"""What one poll writes: items, stories, signals and outbox rows, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.items import Item, Signal
from watcher.sources.result import Validators
from watcher.store.db import Sessions, chunked, insert_ignoring_conflicts, insert_returning_ids
from watcher.store.outbox import IMMEDIATE, PENDING
from watcher.store.source_state import mark_success, source_row
from watcher.store.stories import find_candidates, key_rows, lock_story_assignment
from watcher.store.tables import (
    DeliveryRow,
    ItemRow,
    SignalRow,
    StoryKeyRow,
    StoryRow,
    table_of,
)
from watcher.stories import Sketch, best_story, encode_sketch, index_keys, sketch_text


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
    address is mailed immediately. `sketch` is the item's story sketch when the caller
    made it already (outside the write transaction); otherwise `save_poll` makes it.
    """

    item: Item
    signals: Sequence[Signal]
    recipients: Mapping[str, Sequence[str]]
    modes: Mapping[str, str] = field(default_factory=dict)
    sketch: Sketch | None = None


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
    New items, their stories, keys, signals and deliveries are written in bulk: a few
    statements per poll, however many items it brings.
    """
    queued = 0
    async with db.write() as session, session.begin():
        state = await source_row(session, source, kind, now)
        stored = await _items_by_identity(session, source, [p.item.identity for p in plans])
        fresh = [p for p in plans if p.item.identity not in stored]
        rows: list[tuple[ItemPlan, _Stored]] = []
        if fresh:
            await lock_story_assignment(session)
            rows.extend(await _insert_fresh(session, source, fresh, now, story_window))
        revised = [p for p in plans if p.item.identity in stored]
        rows.extend(await _revise_items(session, source, revised, stored, now))
        signal_ids = await _save_signals(session, rows, stored, now)
        queued = await _queue(session, rows, signal_ids, domain, now)
        mark_success(state, now, next_poll_at)
        state.etag, state.last_modified = validators.etag, validators.last_modified
        if fresh:
            state.last_new_item_at = now
        session.add(state)
    return SaveCounts(
        new=len(fresh),
        revised=len(plans) - len(fresh),
        signals=sum(len(p.signals) for p in plans),
        queued=queued,
    )


# --- helpers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stored:
    """Where an item of this poll went: its row and its story."""

    item_id: int
    story_id: int


def _sketch(item: Item) -> Sketch:
    return sketch_text(item.title, item.body)


async def _items_by_identity(
    session: AsyncSession, source: str, identities: list[str]
) -> dict[str, ItemRow]:
    found: dict[str, ItemRow] = {}
    for chunk in chunked(identities):
        rows = await session.exec(
            select(ItemRow).where(ItemRow.source == source, col(ItemRow.identity).in_(chunk))
        )
        found.update({row.identity: row for row in rows})
    return found


async def _insert_fresh(
    session: AsyncSession,
    source: str,
    plans: list[ItemPlan],
    now: datetime,
    window: timedelta,
) -> list[tuple[ItemPlan, _Stored]]:
    """Place new items in stories and insert them, their new stories and their story keys."""
    sketches = [p.sketch or _sketch(p.item) for p in plans]
    moments = [p.item.published or now for p in plans]
    lookup = await find_candidates(
        session,
        source=source,
        sketches=list(zip(sketches, moments, strict=True)),
        window=window,
        now=now,
    )
    story_ids: list[int | None] = [
        best_story(sketch, source, when, window, candidates)
        for sketch, when, candidates in zip(sketches, moments, lookup.candidates, strict=True)
    ]
    starting = [i for i, story in enumerate(story_ids) if story is None]
    if starting:
        created = await insert_returning_ids(
            session,
            table_of(StoryRow),
            [{"title": plans[i].item.title, "first_seen": now} for i in starting],
        )
        for i, story_id in zip(starting, created, strict=True):
            story_ids[i] = story_id
    stories = [story for story in story_ids if story is not None]
    inserted = await insert_returning_ids(
        session,
        table_of(ItemRow),
        [
            _item_values(plan.item, now, sketch, story)
            for plan, sketch, story in zip(plans, sketches, stories, strict=True)
        ],
    )
    placed = [_Stored(item_id, story) for item_id, story in zip(inserted, stories, strict=True)]
    keys = [
        row
        for where, filed, when in zip(placed, lookup.keys, moments, strict=True)
        for row in key_rows(where.item_id, where.story_id, source, when, filed)
    ]
    if keys:
        await session.exec(insert(table_of(StoryKeyRow)), params=keys)
    return list(zip(plans, placed, strict=True))


def _item_values(item: Item, now: datetime, sketch: Sketch, story_id: int | None) -> dict[str, Any]:
    return {
        "source": item.source,
        "identity": item.identity,
        "guid": item.guid,
        "link": item.link,
        "title": item.title,
        "body": item.body,
        "published": item.published,
        "fetched_at": now,
        "content_hash": item.content_hash,
        "revision": 1,
        "story_id": story_id,
        "fingerprint": encode_sketch(sketch),
    }


async def _revise_items(
    session: AsyncSession,
    source: str,
    plans: list[ItemPlan],
    stored: Mapping[str, ItemRow],
    now: datetime,
) -> list[tuple[ItemPlan, _Stored]]:
    """Update revised items in place and file them under their new text's story keys."""
    out: list[tuple[ItemPlan, _Stored]] = []
    keys: list[dict[str, object]] = []
    for plan in plans:
        row = stored[plan.item.identity]
        sketch = plan.sketch or _sketch(plan.item)
        _revise_item(row, plan.item, now, sketch)
        assert row.id is not None
        assert row.story_id is not None
        out.append((plan, _Stored(row.id, row.story_id)))
        moment = row.published or row.fetched_at
        keys.extend(key_rows(row.id, row.story_id, source, moment, index_keys(sketch)))
    if out:
        await session.flush()
        await session.exec(
            delete(StoryKeyRow).where(col(StoryKeyRow.item_id).in_([w.item_id for _, w in out]))
        )
        await session.exec(insert(table_of(StoryKeyRow)), params=keys)
    return out


def _revise_item(row: ItemRow, item: Item, now: datetime, sketch: Sketch) -> None:
    row.title, row.body, row.link = item.title, item.body, item.link
    row.fingerprint = encode_sketch(sketch)
    row.published = item.published or row.published
    row.content_hash = item.content_hash
    row.fetched_at = now
    row.revision += 1


async def _save_signals(
    session: AsyncSession,
    rows: list[tuple[ItemPlan, _Stored]],
    stored: Mapping[str, ItemRow],
    now: datetime,
) -> dict[tuple[int, str], int]:
    """Store every item's signals; signal ids by (item id, type).

    A new item's signals are inserted in one statement; a revision's replace the
    same-type signals of its earlier text.
    """
    ids: dict[tuple[int, str], int] = {}
    fresh = [
        (where, signal)
        for plan, where in rows
        if plan.item.identity not in stored
        for signal in plan.signals
    ]
    if fresh:
        inserted = await insert_returning_ids(
            session,
            table_of(SignalRow),
            [_signal_values(where, signal, now) for where, signal in fresh],
        )
        for (where, signal), signal_id in zip(fresh, inserted, strict=True):
            ids[where.item_id, signal.type] = signal_id
    for plan, where in rows:
        if plan.item.identity in stored:
            ids.update(await _replace_signals(session, where, plan.signals, now))
    return ids


def _signal_values(where: _Stored, signal: Signal, now: datetime) -> dict[str, Any]:
    data = signal.as_dict()
    return {
        "item_id": where.item_id,
        "story_id": where.story_id,
        "type": signal.type,
        "direction": signal.direction.value,
        "severity": signal.severity.value,
        "score": signal.score,
        "speculative": signal.speculative,
        "rule": signal.rule,
        "evidence": list(data["evidence"]),  # type: ignore[call-overload]
        "entities": signal.entities.as_dict(),
        "created_at": now,
    }


async def _replace_signals(
    session: AsyncSession, where: _Stored, signals: Sequence[Signal], now: datetime
) -> dict[tuple[int, str], int]:
    """A revised item's signals, replacing same-type ones of its earlier text; ids by type."""
    existing = {
        row.type: row
        for row in await session.exec(select(SignalRow).where(SignalRow.item_id == where.item_id))
    }
    ids: dict[tuple[int, str], int] = {}
    for signal in signals:
        values = _signal_values(where, signal, now)
        row = existing.get(signal.type)
        if row is None:
            row = SignalRow(**values)
        else:
            for name, value in values.items():
                if name != "created_at":
                    setattr(row, name, value)
        session.add(row)
        await session.flush()
        assert row.id is not None
        ids[where.item_id, signal.type] = row.id
    return ids


async def _queue(
    session: AsyncSession,
    rows: list[tuple[ItemPlan, _Stored]],
    signal_ids: Mapping[tuple[int, str], int],
    domain: str,
    now: datetime,
) -> int:
    """Outbox rows for every item, address and signal type; one already queued is kept.

    One statement for the poll. One Message-ID per subscriber and item: the signals of
    one item reach a subscriber in one email, and the ID stays the same across retries.
    A story's (subscriber, signal type) is queued once (the outbox's unique key).
    """
    values = []
    for plan, where in rows:
        message_ids: dict[str, str] = {}
        for signal_type, addresses in plan.recipients.items():
            for address in addresses:
                message_id = message_ids.setdefault(
                    address, f"<{uuid.uuid4().hex}.{where.item_id}@{domain}>"
                )
                values.append(
                    {
                        "subscriber": address,
                        "story_id": where.story_id,
                        "item_id": where.item_id,
                        "signal_id": signal_ids[where.item_id, signal_type],
                        "signal_type": signal_type,
                        "mode": plan.modes.get(address, IMMEDIATE),
                        "message_id": message_id,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    queued = 0
    for chunk in chunked(values):
        result = await session.exec(
            insert_ignoring_conflicts(
                session, DeliveryRow, chunk, ["subscriber", "story_id", "signal_type"]
            )
        )
        queued += int(getattr(result, "rowcount", 0) or 0)
    return queued
