"""The outbox: claim due deliveries under a lease, and record every attempt's outcome.

A dispatcher first *claims* due rows (`claim_rows`, the one place rows are reserved),
then sends, then marks each email's rows in its own transaction. A kill before the
mark leaves the rows leased; when the lease expires they are due again and the email
is resent with the same Message-ID. Nothing is ever due and unreachable.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    RowMapping,
    Table,
    bindparam,
    or_,
    select,
    update,
)

from watcher.domain.items import Outbound
from watcher.store.db import Database
from watcher.store.driver import Driver
from watcher.store.tables import DELIVERIES, ITEMS, SIGNALS
from watcher.store.values import (
    ITEM_COLUMNS,
    ITEM_PREFIX,
    SIGNAL_COLUMNS,
    SIGNAL_PREFIX,
    item_value,
    labelled,
    signal_value,
)

PENDING, SENT, DEAD, EMPTY = "pending", "sent", "dead", "empty"
CANCELLED = "cancelled"  # the subscriber opted out (`watcher.store.optouts`)
IMMEDIATE, DIGEST = "immediate", "digest"
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Batch:
    """Emails one dispatcher holds until `until`; rows still held then may go to another."""

    owner: str
    until: datetime
    emails: list[Outbound]


async def claim_rows(
    db: Database,
    table: Table,
    *,
    group: Column[Any],
    now: datetime,
    lease: timedelta,
    limit: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> tuple[str, datetime, list[int]]:
    """Lease up to `limit` due groups of rows of `table` in one transaction.

    `table` is an outbox-like table (deliveries, digests, notices: status, attempts,
    `next_attempt_at` and a lease). Due: pending, `next_attempt_at <= now`, no unexpired
    lease, and every `where`. All due rows sharing a `group` value (an email's
    Message-ID) are claimed together. Returns the lease owner token, its expiry and the
    claimed row ids. The update re-checks the lease, so two claimers never hold one row
    even without row locks.
    """
    owner = uuid.uuid4().hex
    until = now + lease
    c = table.c
    due = [
        c.status == PENDING,
        c.next_attempt_at <= now,
        or_(c.lease_until.is_(None), c.lease_until <= now),
        *where,
    ]
    # One UPDATE that picks and takes: it writes first, so SQLite never has to upgrade a
    # read transaction (which fails at once under WAL when another writer won), and it
    # re-checks `due` on each row, so two claimers never share a row. On PostgreSQL the
    # pick skips rows another claimer has locked (FOR UPDATE SKIP LOCKED) rather than
    # waiting for them and then finding them taken; SQLite ignores the clause.
    pick = select(group).where(*due).order_by(c.id).limit(limit).with_for_update(skip_locked=True)
    take = update(table).where(group.in_(pick), *due).values(lease_owner=owner, lease_until=until)
    taken = select(c.id).where(c.lease_owner == owner).order_by(c.id)

    def claim(connection: Connection) -> list[int]:
        connection.execute(take)
        return [i for i in connection.execute(taken).scalars() if i is not None]

    ids = await db.run_write(claim, urgent=True)
    return owner, until, ids


async def claim_outbound(
    db: Database, *, channel: str, now: datetime, lease: timedelta, limit: int
) -> Batch:
    """Claim due immediate deliveries on `channel`, grouped into messages (one per ID)."""
    owner, until, ids = await claim_rows(
        db,
        DELIVERIES,
        group=DELIVERIES.c.message_id,
        now=now,
        lease=lease,
        limit=limit,
        where=[DELIVERIES.c.mode == IMMEDIATE, DELIVERIES.c.channel == channel],
    )
    if not ids:
        return Batch(owner, until, [])
    query = labelled(
        select(*OUTBOUND_COLUMNS)
        .join(SIGNALS, SIGNALS.c.id == DELIVERIES.c.signal_id)
        .join(ITEMS, ITEMS.c.id == DELIVERIES.c.item_id)
        .where(DELIVERIES.c.id.in_(ids))
        .order_by(DELIVERIES.c.id)
    )

    def read(
        connection: Connection,
    ) -> tuple[list[RowMapping], dict[int, set[str]], dict[tuple[str, str, int], set[str]]]:
        rows = [row._mapping for row in connection.execute(query)]
        stories = {row["items_story_id"] for row in rows}
        revised = {row["deliveries_story_id"] for row in rows if row["items_revision"] > 1}
        return rows, reporting_sources(connection, stories), earlier_alerts(connection, revised)

    rows, others, earlier = await db.run_read(read)
    groups: dict[str, list[RowMapping]] = {}
    for row in rows:
        groups.setdefault(row["deliveries_message_id"], []).append(row)
    emails = []
    for message_id, members in groups.items():
        first = members[0]
        item = item_value(first, ITEM_PREFIX)
        emails.append(
            Outbound(
                message_id=message_id,
                subscriber=first["deliveries_subscriber"],
                channel=first["deliveries_channel"],
                target=first["deliveries_target"],
                delivery_ids=tuple(m["deliveries_id"] for m in members),
                attempts=max(m["deliveries_attempts"] for m in members),
                item=item,
                signals=tuple(signal_value(m, SIGNAL_PREFIX) for m in members),
                also_reported_by=also_reported(others, first["items_story_id"], item.source),
                story_news=(first["items_story_news"] or "") if first["deliveries_edition"] else "",
                revision=first["items_revision"],
                earlier_types=tuple(
                    sorted(
                        earlier.get(
                            (
                                first["deliveries_subscriber"],
                                first["deliveries_channel"],
                                first["deliveries_story_id"],
                            ),
                            set(),
                        )
                        - {m["deliveries_signal_type"] for m in members}
                    )
                ),
                queued_at=min(_aware(m["deliveries_created_at"]) for m in members),
            )
        )
    return Batch(owner, until, emails)


# what an `Outbound` is built from (`item_value`, `signal_value` and the delivery's own
# fields): not the rows' lease, schedule, timestamps, fingerprint or ids it never reads
OUTBOUND_COLUMNS = (
    *(
        DELIVERIES.c[name]
        for name in (
            "id",
            "subscriber",
            "channel",
            "target",
            "story_id",
            "signal_type",
            "message_id",
            "attempts",
            "created_at",
            "edition",
        )
    ),
    *(SIGNALS.c[name] for name in SIGNAL_COLUMNS),
    *(ITEMS.c[name] for name in (*ITEM_COLUMNS, "story_id", "revision", "story_news")),
)


def earlier_alerts(
    connection: Connection, story_ids: set[int]
) -> dict[tuple[str, str, int], set[str]]:
    """(subscriber, channel, story) → the signal types its outbox rows hold for that story.

    For a revised report's alert, which says what it adds to what was alerted before.
    """
    found: dict[tuple[str, str, int], set[str]] = {}
    if not story_ids:
        return found
    d = DELIVERIES.c
    rows = connection.execute(
        select(d.subscriber, d.channel, d.story_id, d.signal_type).where(
            d.story_id.in_(sorted(story_ids))
        )
    )
    for subscriber, channel, story_id, signal_type in rows:
        found.setdefault((subscriber, channel, story_id), set()).add(signal_type)
    return found


def reporting_sources(connection: Connection, story_ids: set[int | None]) -> dict[int, set[str]]:
    """The names of the sources with an item in each story."""
    wanted = [s for s in story_ids if s is not None]
    found: dict[int, set[str]] = {}
    if not wanted:
        return found
    rows = connection.execute(
        select(ITEMS.c.story_id, ITEMS.c.source).where(ITEMS.c.story_id.in_(wanted))
    )
    for story_id, source in rows:
        found.setdefault(story_id, set()).add(source)
    return found


def also_reported(
    others: dict[int, set[str]], story_id: int | None, source: str
) -> tuple[str, ...]:
    """Sources of the story other than `source` (the item's own), sorted."""
    names = others.get(story_id or 0, set()) - {source}
    return tuple(sorted(names))


async def mark_sent(db: Database, ids: Sequence[int], *, reply: str, now: datetime) -> None:
    """The email went out: never send these deliveries again."""
    await _update(
        db,
        ids,
        status=SENT,
        sent_at=now,
        reply=reply[:MAX_ERROR_CHARS],
        attempts=DELIVERIES.c.attempts + 1,
    )


async def mark_sent_many(
    db: Database, emails: Sequence[tuple[Sequence[int], str, datetime]]
) -> None:
    """`mark_sent` for several emails, each `(delivery ids, reply, when)`, in one transaction."""
    rows = [
        {"row_id": row_id, "sent": when, "reply_text": reply[:MAX_ERROR_CHARS]}
        for ids, reply, when in emails
        for row_id in ids
    ]
    if not rows:
        return
    # once per accepted batch of emails: through the driver, compiled once per process
    await db.run_write(lambda c: Driver(c).execute_many(MARK_SENT, rows), urgent=True)


MARK_SENT = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == bindparam("row_id"))
    .values(
        status=SENT,
        sent_at=bindparam("sent"),
        reply=bindparam("reply_text"),
        attempts=DELIVERIES.c.attempts + 1,
        lease_owner=None,
        lease_until=None,
    )
)


async def mark_retry(db: Database, ids: Sequence[int], *, error: str, at: datetime) -> None:
    """A transient failure: try again at `at`."""
    await _update(
        db,
        ids,
        next_attempt_at=at,
        last_error=error[:MAX_ERROR_CHARS],
        attempts=DELIVERIES.c.attempts + 1,
    )


async def postpone(db: Database, ids: Sequence[int], *, reason: str, at: datetime) -> None:
    """Not attempted, only put off until `at` (its recipient is missing just now)."""
    await _update(db, ids, next_attempt_at=at, last_error=reason[:MAX_ERROR_CHARS])


async def mark_dead(db: Database, ids: Sequence[int], *, error: str) -> None:
    """A permanent failure: a dead letter, kept with its reason, never retried by itself."""
    await _update(
        db, ids, status=DEAD, last_error=error[:MAX_ERROR_CHARS], attempts=DELIVERIES.c.attempts + 1
    )


async def mark_cancelled(db: Database, ids: Sequence[int]) -> None:
    """Not sent because the subscriber opted out: never sent, never a dead letter."""
    await _update(db, ids, status=CANCELLED)


async def release(db: Database, ids: Sequence[int], *, owner: str) -> None:
    """Give back claimed rows that were not attempted (no attempt is counted)."""
    if not ids:
        return
    statement = (
        update(DELIVERIES)
        .where(DELIVERIES.c.id.in_(list(ids)), DELIVERIES.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )
    await db.run_write(lambda connection: connection.execute(statement), urgent=True)


def _aware(value: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite hands back naive UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _update(db: Database, ids: Sequence[int], **values: Any) -> None:
    """Record an outcome and drop the lease, in one transaction."""
    if not ids:
        return
    statement = (
        update(DELIVERIES)
        .where(DELIVERIES.c.id.in_(list(ids)))
        .values(lease_owner=None, lease_until=None, **values)
    )
    await db.run_write(lambda connection: connection.execute(statement), urgent=True)
