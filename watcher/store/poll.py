"""What one poll writes in one transaction: items, stories, signals, outbox rows, its row."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from watcher.domain.items import Item, Recipient, Signal
from watcher.domain.stories import (
    Candidate,
    Placement,
    Sketch,
    best_story,
    decode_sketch,
    encode_sketch,
    index_keys,
    script_keys,
    sketch_text,
)
from watcher.domain.story_facts import described
from watcher.store.db import Database, chunked
from watcher.store.driver import Driver
from watcher.store.outbox import PENDING
from watcher.store.sketch_bytes import sketch_of
from watcher.store.source_state import Success, save_successes
from watcher.store.story_index import Filing, Lookup, file_keys, lock_story_assignment, lookup
from watcher.store.tables import DELIVERIES, ITEMS, SIGNALS, STORIES, STORY_KEYS, unique_key


@dataclass(frozen=True, slots=True)
class SaveCounts:
    """What one poll's transaction wrote (`notices`: the keys of admin notices queued)."""

    new: int = 0
    revised: int = 0
    signals: int = 0
    queued: int = 0
    notices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """An item to store, its signals, and who gets each signal type (addresses by type).

    `recipients` maps each signal type to where it goes (subscriber, channel, target,
    mode). `fingerprint` is the item's story sketch, encoded
    (`watcher.domain.stories.encode_sketch`), and `keys` its story keys
    (`watcher.domain.stories.index_keys`), when the caller made them already (a parser worker
    did); otherwise `save_poll` makes both, with story clustering on.
    """

    item: Item
    signals: Sequence[Signal]
    recipients: Mapping[str, Sequence[Recipient]]
    fingerprint: bytes | None = None
    keys: frozenset[int] | None = None

    def sketched(self) -> tuple[bytes, frozenset[int]]:
        """The item's fingerprint and story keys, made here if the caller did not."""
        if self.fingerprint is not None and self.keys is not None:
            return self.fingerprint, self.keys
        published = self.item.published.date() if self.item.published else None
        kinds = [(s.type, s.direction.value) for s in self.signals]
        sketch = sketch_text(self.item.title, self.item.body, published, kinds)
        return encode_sketch(sketch), index_keys(sketch)


async def save_poll(
    db: Database,
    *,
    success: Success,
    plans: Sequence[ItemPlan],
    story_window: timedelta = timedelta(days=7),
) -> SaveCounts:
    """Items, signals, deliveries, the source's success and its notices: one commit.

    A new item joins the story of a near-duplicate from another source within
    `story_window` (`watcher.domain.stories`), else starts its own; a window of zero
    turns clustering off (no lookup, no story keys filed: every item is its own story;
    its row keeps the sketch its plan carries, and none is made when it carries none).
    A known identity with
    a new text is a revision: its row is updated, its signals re-derived. The outbox's
    unique key (recipient, story, signal type, edition) means only a signal type new to
    the story is sent, unless the item adds a fact the story lacked (`Placement.adds`):
    then it is an update, sent under its own edition, and `story_news` says what it adds.
    New items, their stories, keys, signals and deliveries are written in bulk:
    a few statements per poll, however many items it brings, in one `Database.run_write`
    (on SQLite, whole on the writer thread), with the source's row (`success`, whose
    `new_items` this poll decides) and the admin notices the success calls for.
    """
    source, now, domain = success.source, success.now, success.domain
    identities = [p.item.identity for p in plans]
    clustering = story_window > timedelta(0)
    # before the write transaction, off the writer thread every poll's write queues for
    prepared = [_prepare(plan, clustering) for plan in plans]

    def write(connection: Connection) -> tuple[int, int, list[str]]:
        driver = Driver(connection)
        stored = _stored_ids(driver, source, identities)
        fresh = [i for i, p in enumerate(plans) if p.item.identity not in stored]
        rows: list[tuple[ItemPlan, _Stored]] = []
        signal_ids: dict[tuple[int, str], int] = {}
        if fresh:
            if clustering:
                lock_story_assignment(driver)
            rows, signal_ids = _insert_fresh(
                driver,
                source,
                [plans[i] for i in fresh],
                [prepared[i] for i in fresh],
                now,
                story_window,
            )
        revised = [p for p in plans if p.item.identity in stored]
        if revised:
            ids = [stored[p.item.identity] for p in revised]
            placed = _revise_items(connection, driver, source, revised, ids, now, clustering)
            for plan, where in placed:
                signal_ids.update(_replace_signals(connection, where, plan.signals, now))
            rows.extend(placed)
        queued = _queue(driver, rows, signal_ids, domain, now)
        notices = save_successes(connection, [replace(success, new_items=bool(fresh))])
        return len(revised), queued, notices

    revised, queued, notices = await db.run_write(write)
    return SaveCounts(
        new=len(plans) - revised,
        revised=revised,
        signals=sum(len(p.signals) for p in plans),
        queued=queued,
        notices=tuple(notices),
    )


# --- helpers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stored:
    """Where an item of this poll went: its row and its story."""

    item_id: int
    story_id: int
    edition: int = 0  # 0: the story's first report or a copy; else an update (the item id)


# where each item went, and the ids of its signals by (item id, type)
_Placed = tuple[list[tuple["ItemPlan", _Stored]], dict[tuple[int, str], int]]


def _story_of(
    sketch: Sketch | None,
    source: str,
    when: datetime,
    window: timedelta,
    candidates: Sequence[Candidate],
) -> Placement | None:
    """The story the item joins (`best_story`); none when its sketch is unreadable."""
    return (
        None
        if sketch is None or not candidates
        else best_story(sketch, source, when, window, candidates)
    )


STORED_IDS = select(ITEMS.c.identity, ITEMS.c.id).where(
    ITEMS.c.source == bindparam("source"),
    ITEMS.c.identity.in_(bindparam("identities", expanding=True)),
)


def _stored_ids(driver: Driver, source: str, identities: list[str]) -> dict[str, int]:
    """The ids of the source's stored items among `identities`, by identity."""
    found: dict[str, int] = {}
    for chunk in chunked(identities):
        rows = driver.fetch(STORED_IDS, {"source": source, "identities": chunk})
        found.update((identity, item_id) for identity, item_id in rows)
    return found


_NO_KEYS: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An item's story work that needs no database, done before its poll's write.

    `fingerprint` and `keys` are `ItemPlan.sketched()` with clustering on, else what the
    plan carries (None and no keys when unsketched); with clustering on, `sketch` is
    the fingerprint decoded once (the lookup leaves out the stories its facts bar, then
    `best_story` compares it; None when unreadable), `scripts` its `script_keys`
    (reports in other scripts are found through keys an item looks up and does not file)
    and `bars` its `bar_mask` (0, barring nothing, when unreadable).
    """

    fingerprint: bytes | None
    keys: frozenset[int]
    sketch: Sketch | None = None
    scripts: tuple[frozenset[int], frozenset[int]] = _NO_KEYS
    bars: int = 0


def _prepare(plan: ItemPlan, clustering: bool) -> _Prepared:
    """`plan`'s `_Prepared` (its sketch and script keys only when `clustering`; without
    it, nothing is sketched that the plan does not carry)."""
    if not clustering:
        return _Prepared(plan.fingerprint, plan.keys or frozenset())
    fingerprint, keys = plan.sketched()
    sketch = sketch_of(fingerprint)  # held, when the parse pool sketched it on a thread
    if sketch is None:
        return _Prepared(fingerprint, keys)
    return _Prepared(fingerprint, keys, sketch, script_keys(sketch), sketch.bars)


def _insert_fresh(
    driver: Driver,
    source: str,
    plans: list[ItemPlan],
    prepared: list[_Prepared],
    now: datetime,
    window: timedelta,
) -> _Placed:
    """Place new items in stories; insert them, their new stories, story keys and signals.

    `prepared[i]` is `plans[i]`'s `_Prepared`. Returns where each plan's item went and
    the new signals' ids by (item id, type).
    """
    sketched = [(p.fingerprint, p.keys) for p in prepared]
    moments = [p.item.published or now for p in plans]
    clustering = window > timedelta(0)
    sketches = [p.sketch for p in prepared]
    scripts = [p.scripts for p in prepared]
    found = (
        lookup(
            driver,
            source=source,
            wanted=[
                (keys | looked_up, when)
                for (_, keys), (_, looked_up), when in zip(sketched, scripts, moments, strict=True)
            ],
            window=window,
            now=now,
            sketches=sketches,
        )
        if clustering
        else Lookup([[] for _ in plans], frozenset())
    )
    placements = [
        _story_of(sketch, source, when, window, candidates)
        for sketch, when, candidates in zip(sketches, moments, found.candidates, strict=True)
    ]
    story_ids = [None if p is None else p.story_id for p in placements]
    starting = [i for i, story in enumerate(story_ids) if story is None]
    if starting:
        created = driver.insert_ids(
            STORIES,
            [{"title": plans[i].item.title, "first_seen": now} for i in starting],
        )
        for i, story_id in zip(starting, created, strict=True):
            story_ids[i] = story_id
    stories = [story for story in story_ids if story is not None]
    news = [_news(plan, placement) for plan, placement in zip(plans, placements, strict=True)]
    inserted = driver.insert_ids(
        ITEMS,
        [
            _item_values(plan.item, now, fingerprint, story, told)
            for plan, (fingerprint, _), story, told in zip(
                plans, sketched, stories, news, strict=True
            )
        ],
    )
    placed = [
        _Stored(item_id, story, item_id if told else 0)
        for item_id, story, told in zip(inserted, stories, news, strict=True)
    ]
    if clustering:
        file_keys(
            driver,
            source,
            [
                Filing(
                    where.item_id,
                    where.story_id,
                    when,
                    (p.keys | p.scripts[0]) - found.hot,
                    p.bars,
                )
                for where, p, when in zip(placed, prepared, moments, strict=True)
            ],
        )
    rows = list(zip(plans, placed, strict=True))
    return rows, _insert_signals(driver, rows, now)


def _filed_for_other_scripts(fingerprint: bytes) -> tuple[frozenset[int], int]:
    """The script keys a revised item is filed under (`script_keys`) and its `bar_mask`;
    none and 0 (bars nothing) if its sketch is unreadable."""
    sketch = decode_sketch(fingerprint)
    if sketch is None:
        return frozenset(), 0
    return script_keys(sketch)[0], sketch.bars


def _news(plan: ItemPlan, placement: Placement | None) -> str | None:
    """What a joined item adds to its story, readable; None when it adds nothing or is new."""
    if placement is None or not placement.adds:
        return None
    item = plan.item
    published = item.published.date() if item.published else None
    kinds = [(s.type, s.direction.value) for s in plan.signals]
    return described(item.title, item.body, placement.adds, published, kinds) or None


def _item_values(
    item: Item, now: datetime, fingerprint: bytes | None, story_id: int, news: str | None = None
) -> dict[str, Any]:
    return {
        "story_news": news,
        "source": item.source,
        "identity": item.identity,
        "guid": item.guid,
        "link": item.link,
        "title": item.title,
        "body": item.body,
        "published": item.published,
        "published_day": item.published_day,
        "date_from": item.date_from or None,
        "fetched_at": now,
        "content_hash": item.content_hash,
        "revision": 1,
        "story_id": story_id,
        "fingerprint": fingerprint,
    }


def _revise_items(
    connection: Connection,
    driver: Driver,
    source: str,
    plans: list[ItemPlan],
    ids: Sequence[int],
    now: datetime,
    clustering: bool = True,
) -> list[tuple[ItemPlan, _Stored]]:
    """Update revised items in place and file them under their new text's story keys.

    `ids[i]` is the row id of `plans[i]`'s item. A revision keeps the item's story and
    its published date when the new text has none. Without `clustering` no key is filed
    (and the item's old keys are dropped all the same).
    """
    i = ITEMS.c
    found = {}
    for chunk in chunked(ids):
        rows = connection.execute(select(i.id, i.story_id, i.published).where(i.id.in_(chunk)))
        found.update({row.id: row for row in rows})
    out: list[tuple[ItemPlan, _Stored]] = []
    filings: list[Filing] = []
    for plan, item_id in zip(plans, ids, strict=True):
        fingerprint, keys = plan.sketched() if clustering else (plan.fingerprint, frozenset())
        row, item = found[item_id], plan.item
        published = item.published or row.published
        dating = (
            {"published_day": item.published_day, "date_from": item.date_from or None}
            if item.published is not None
            else {}
        )
        connection.execute(
            update(ITEMS)
            .where(i.id == item_id)
            .values(
                title=item.title,
                body=item.body,
                link=item.link,
                fingerprint=fingerprint,
                published=published,
                **dating,
                content_hash=item.content_hash,
                fetched_at=now,
                revision=i.revision + 1,
            )
        )
        out.append((plan, _Stored(item_id, row.story_id)))
        if clustering and fingerprint is not None:  # always sketched when clustering
            filed, bars = _filed_for_other_scripts(fingerprint)
            filings.append(Filing(item_id, row.story_id, published or now, keys | filed, bars))
    connection.execute(delete(STORY_KEYS).where(STORY_KEYS.c.item_id.in_(list(ids))))
    if clustering:
        file_keys(driver, source, filings)
    return out


def _insert_signals(
    driver: Driver, rows: list[tuple[ItemPlan, _Stored]], now: datetime
) -> dict[tuple[int, str], int]:
    """Insert the signals of new items in one statement; their ids by (item id, type)."""
    fresh = [(where, signal) for plan, where in rows for signal in plan.signals]
    inserted = driver.insert_ids(
        SIGNALS,
        [_signal_values(where, signal, now) for where, signal in fresh],
    )
    return {
        (where.item_id, signal.type): signal_id
        for (where, signal), signal_id in zip(fresh, inserted, strict=True)
    }


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
        "direction_uncertain": signal.direction_uncertain,
        "direction_doubt": signal.direction_doubt,
        "rule": signal.rule,
        "evidence": list(data["evidence"]),  # type: ignore[call-overload]
        "entities": signal.entities.as_dict(),
        "created_at": now,
    }


def _replace_signals(
    connection: Connection, where: _Stored, signals: Sequence[Signal], now: datetime
) -> dict[tuple[int, str], int]:
    """A revised item's signals, replacing same-type ones of its earlier text; ids by type."""
    s = SIGNALS.c
    rows = connection.execute(select(s.type, s.id).where(s.item_id == where.item_id))
    existing: dict[str, int] = {kind: signal_id for kind, signal_id in rows}  # noqa: C416
    ids: dict[tuple[int, str], int] = {}
    for signal in signals:
        values = _signal_values(where, signal, now)
        signal_id = existing.get(signal.type)
        if signal_id is None:
            signal_id = connection.execute(
                insert(SIGNALS).values(values).returning(s.id)
            ).scalar_one()
        else:
            del values["created_at"]
            connection.execute(update(SIGNALS).where(s.id == signal_id).values(values))
        ids[where.item_id, signal.type] = signal_id
    return ids


def _queue(
    driver: Driver,
    rows: list[tuple[ItemPlan, _Stored]],
    signal_ids: Mapping[tuple[int, str], int],
    domain: str,
    now: datetime,
) -> int:
    """Outbox rows for every item, recipient and signal type; one already queued is kept.

    One statement for the poll; returns how many rows it added. One message ID per
    recipient (subscriber, channel, target) and item: the signals of one item reach a
    recipient in one message, and the ID stays the same across retries. A story's
    (recipient, signal type) is queued once (the outbox's unique key).
    """
    values = []
    for plan, where in rows:
        message_ids: dict[Recipient, str] = {}
        for signal_type, recipients in plan.recipients.items():
            for recipient in recipients:
                message_id = message_ids.setdefault(
                    recipient, f"<{uuid.uuid4().hex}.{where.item_id}@{domain}>"
                )
                values.append(
                    {
                        "subscriber": recipient.subscriber,
                        "channel": recipient.channel,
                        "target": recipient.target,
                        "story_id": where.story_id,
                        "edition": where.edition,
                        "item_id": where.item_id,
                        "signal_id": signal_ids[where.item_id, signal_type],
                        "signal_type": signal_type,
                        "mode": recipient.mode,
                        "message_id": message_id,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    added = driver.insert_rows(
        DELIVERIES,
        values,
        ignoring=unique_key(DELIVERIES, "uq_deliveries_once"),
        returning=DELIVERIES.c.id,
    )
    return len(added)
