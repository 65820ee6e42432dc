"""Each source's state between polls: cache validators, health counters, next poll.

The poll that stores nothing (a 304, or nothing changed) is the common one, so its two
database steps are plain SQL rather than ORM objects: `load_state` is a SELECT and
`record_success` an upsert. The reads of polls that start at the same moment share one
query, and the upserts of polls that end together one write transaction
(`watcher.concurrency.coalesce`), instead of a hundred transactions queueing one by one for
connections and for SQLite's write lock.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.engine import Row
from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.concurrency.coalesce import Coalescer
from watcher.sources.result import Validators
from watcher.store.db import Database, chunked
from watcher.store.driver import Driver
from watcher.store.tables import SourceRow, UTCDateTime, table_of

MAX_ERROR_CHARS = 2000
SOURCES: Table = table_of(SourceRow)
_STATE_COLUMNS = (
    SOURCES.c.name,
    SOURCES.c.etag,
    SOURCES.c.last_modified,
    SOURCES.c.polls,
    SOURCES.c.consecutive_failures,
    SOURCES.c.failing_since,
    SOURCES.c.last_success_at,
    SOURCES.c.last_new_item_at,
    SOURCES.c.added_at,
)


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a poll needs to know of its source's row before it starts."""

    validators: Validators = field(default_factory=Validators)
    polls: int = 0
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    added_at: datetime | None = None

    @property
    def never_succeeded(self) -> bool:
        """True before the first successful poll: that one is the backfill poll."""
        return self.last_success_at is None


async def load_state(db: Database, source: str) -> SourceState:
    """The row's state (an empty state for a source never seen), as committed now.

    Reads asked for at the same moment share one query (`load_states`).
    """
    return await _coalescers(db).reads.submit(source)


async def load_states(db: Database, sources: Iterable[str]) -> dict[str, SourceState]:
    """The state of each of `sources` in one query (an empty state for one never seen)."""
    names = list(dict.fromkeys(sources))

    def read(connection: Connection) -> dict[str, SourceState]:
        found: dict[str, SourceState] = {}
        for chunk in chunked(names):
            query = select(*_STATE_COLUMNS).where(SOURCES.c.name.in_(chunk))
            found.update((row.name, _state(row)) for row in connection.execute(query))
        return found

    found = await db.run_read(read)
    return {name: found.get(name, SourceState()) for name in names}


def _state(row: Row[Any]) -> SourceState:
    return SourceState(
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        polls=row.polls,
        consecutive_failures=row.consecutive_failures,
        failing_since=row.failing_since,
        last_success_at=row.last_success_at,
        last_new_item_at=row.last_new_item_at,
        added_at=row.added_at,
    )


async def record_success(
    db: Database,
    *,
    source: str,
    kind: str,
    now: datetime,
    next_poll_at: datetime | None = None,
    validators: Validators | None = None,
) -> None:
    """A poll that stored nothing (304, or nothing changed): only health and schedule move.

    The row is written by `save_successes` (a new source's row is created) and committed
    when this returns; `validators`, when given, replace the stored ones. A database
    error raises here. Polls ending together share one transaction.
    """
    await _coalescers(db).writes.submit(Success(source, kind, now, next_poll_at, validators))


@dataclass(frozen=True, slots=True)
class _Coalescers:
    """The per-database coalescers of the state reads and success writes."""

    reads: Coalescer[str, SourceState]
    writes: Coalescer[Success, None]


_COALESCERS: weakref.WeakKeyDictionary[Database, _Coalescers] = weakref.WeakKeyDictionary()


def _coalescers(db: Database) -> _Coalescers:
    found = _COALESCERS.get(db)
    if found is None:
        # a weak reference: the coalescers, kept by `_COALESCERS` for as long as the
        # database lives, must not themselves keep it alive
        database = weakref.ref(db)

        async def read(names: list[str]) -> list[SourceState]:
            states = await load_states(_alive(database), names)
            return [states[name] for name in names]

        async def write(successes: list[Success]) -> list[None]:
            await _alive(database).run_write(lambda c: save_successes(Driver(c), successes))
            return [None] * len(successes)

        found = _COALESCERS[db] = _Coalescers(Coalescer(read), Coalescer(write))
    return found


def _alive(database: weakref.ref[Database]) -> Database:
    """The database a coalescer serves (alive while anyone submits to it)."""
    db = database()
    if db is None:
        raise RuntimeError("the database of this source-state coalescer is gone")
    return db


@dataclass(frozen=True, slots=True)
class Success:
    """A successful poll of `source`, as its row records it.

    `validators` replace the stored ones when given (None: keep them); `new_items` moves
    `last_new_item_at` to `now`.
    """

    source: str
    kind: str
    now: datetime
    next_poll_at: datetime | None
    validators: Validators | None = None
    new_items: bool = False


def _success_sql(validators: bool) -> str:
    """The upsert of a success: a new row, or the failure episode over on the stored one."""
    kept = "excluded" if validators else "sources"
    return (
        "INSERT INTO sources (name, kind, added_at, polls, failures_total,"
        " consecutive_failures, last_poll_at, last_success_at, next_poll_at, etag,"
        " last_modified, last_new_item_at) VALUES (?, ?, ?, 1, 0, 0, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET polls = sources.polls + 1,"
        " consecutive_failures = 0, failing_since = NULL, backoff_until = NULL,"
        " last_poll_at = excluded.last_poll_at, last_success_at = excluded.last_success_at,"
        f" next_poll_at = excluded.next_poll_at, etag = {kept}.etag,"
        f" last_modified = {kept}.last_modified,"
        " last_new_item_at = coalesce(excluded.last_new_item_at, sources.last_new_item_at)"
    )


def save_successes(driver: Driver, successes: Sequence[Success]) -> None:
    """Record each success on its source's row, in the driver's transaction.

    The failure episode, if any, is over; a new source's row is created. Successes with
    and without validators take one statement each.
    """
    to_db = driver.to_db(UTCDateTime())
    for validators in (True, False):
        rows = []
        for success in successes:
            if (success.validators is not None) != validators:
                continue
            when = to_db(success.now)
            kept = success.validators or Validators()
            rows.append(
                (
                    success.source,
                    success.kind,
                    when,
                    when,
                    when,
                    to_db(success.next_poll_at),
                    kept.etag,
                    kept.last_modified,
                    when if success.new_items else None,
                )
            )
        driver.execute_many(_success_sql(validators), rows)


async def record_failure(
    db: Database,
    *,
    source: str,
    kind: str,
    error: str,
    now: datetime,
    backoff_until: datetime | None = None,
) -> int:
    """Count a failed poll on the source's row; returns its consecutive failures.

    `backoff_until` becomes the row's `next_poll_at`: the source is not due before.
    """
    async with db.write() as session, session.begin():
        state = await source_row(session, source, kind, now)
        state.polls += 1
        state.failures_total += 1
        state.consecutive_failures += 1
        state.failing_since = state.failing_since or now
        state.last_error = error[:MAX_ERROR_CHARS]
        state.last_poll_at = state.last_error_at = now
        state.backoff_until = state.next_poll_at = backoff_until
        session.add(state)
        return state.consecutive_failures


async def source_row(
    session: AsyncSession, source: str, kind: str, now: datetime | None = None
) -> SourceRow:
    """The source's row, created (not yet flushed) when the source is new."""
    row = await session.get(SourceRow, source)
    if row is None:
        row = SourceRow(name=source, kind=kind, added_at=now)
        session.add(row)
    return row
