"""Each source's state between polls: cache validators, health counters, next poll.

The poll that stores nothing (a 304, or nothing changed) is the common one, so its two
database steps are plain SQL rather than ORM objects: `load_state` is a SELECT and
`record_success` an upsert. The reads of polls that start at the same moment share one
query, and the upserts of polls that end together one write transaction (the database's
coalescers, `watcher.concurrency.coalesce`), instead of a hundred transactions queueing
one by one for connections and for SQLite's write lock.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, LargeBinary, bindparam, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.sql.base import Executable

from watcher.domain.notices import AdminNotice
from watcher.sources.result import Validators
from watcher.store.db import Database, chunked, insert_ignoring, upsert_insert
from watcher.store.driver import Driver
from watcher.store.notices import insert_notices
from watcher.store.tables import SOURCES, UTCDateTime

MAX_ERROR_CHARS = 2000
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
    SOURCES.c.entry_marks,
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
    entry_marks: bytes | None = None  # packed `watcher.sources.entry_marks`

    @property
    def never_succeeded(self) -> bool:
        """True before the first successful poll: that one is the backfill poll."""
        return self.last_success_at is None


async def load_state(db: Database, source: str) -> SourceState:
    """The row's state (an empty state for a source never seen), as committed now.

    Reads asked for at the same moment share one query (`load_states`).
    """
    state: SourceState = await db.coalescer("source-state-reads", _read_states).submit(source)
    return state


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
        entry_marks=row.entry_marks,
    )


async def record_success(db: Database, success: Success) -> list[str]:
    """A poll that stored nothing (304, or nothing changed): only health and schedule move.

    The row and the success's admin notices are written by `save_successes` (a new
    source's row is created) and committed when this returns; returns the keys of the
    notices queued now (not before). A database error raises here. Polls ending together
    share one transaction.
    """
    keys: list[str] = await db.coalescer("source-success-writes", _write_successes).submit(success)
    return keys


async def _read_states(db: Database, names: list[str]) -> list[SourceState]:
    states = await load_states(db, names)
    return [states[name] for name in names]


async def _write_successes(db: Database, successes: list[Success]) -> list[list[str]]:
    new = set(await db.run_write(lambda connection: save_successes(connection, successes)))
    return [[n.key for n in s.notices if n.key in new] for s in successes]


@dataclass(frozen=True, slots=True)
class Success:
    """A successful poll of `source`, as its row records it, with the notices it calls for.

    `validators` replace the stored ones when given (None: keep them); `new_items` moves
    `last_new_item_at` to `now`. `entry_marks` replace the row's feed entry marks when
    given (None: keep them; `watcher.sources.entry_marks`). `notices` are queued in the
    same transaction, their Message-IDs under `domain`.
    """

    source: str
    kind: str
    now: datetime
    next_poll_at: datetime | None
    validators: Validators | None = None
    new_items: bool = False
    notices: tuple[AdminNotice, ...] = ()
    domain: str = "localhost"
    entry_marks: bytes | None = None


@functools.cache
def _success_upsert(dialect: str, validators: bool, marks: bool = False) -> Executable:
    """The upsert of a success: a new row, or the failure episode over on the stored one.

    With `validators` the row takes the poll's cache validators, else keeps its own;
    with `marks` its feed entry marks, else keeps its own.
    """
    insert_of = upsert_insert(dialect)
    c = SOURCES.c
    when = bindparam("now", type_=UTCDateTime())
    statement = insert_of(SOURCES).values(
        name=bindparam("source"),
        kind=bindparam("kind"),
        added_at=when,
        polls=1,
        failures_total=0,
        consecutive_failures=0,
        last_poll_at=when,
        last_success_at=when,
        next_poll_at=bindparam("next_poll_at", type_=UTCDateTime()),
        etag=bindparam("etag"),
        last_modified=bindparam("last_modified"),
        last_new_item_at=bindparam("new_item_at", type_=UTCDateTime()),
        entry_marks=bindparam("entry_marks", type_=LargeBinary()),
    )
    new = statement.excluded
    kept = new if validators else c
    changes: dict[str, Any] = {"entry_marks": new.entry_marks} if marks else {}
    return statement.on_conflict_do_update(
        index_elements=[c.name],
        set_={
            "polls": c.polls + 1,
            "consecutive_failures": 0,
            "failing_since": None,
            "backoff_until": None,
            "last_poll_at": new.last_poll_at,
            "last_success_at": new.last_success_at,
            "next_poll_at": new.next_poll_at,
            "etag": kept.etag,
            "last_modified": kept.last_modified,
            "last_new_item_at": func.coalesce(new.last_new_item_at, c.last_new_item_at),
            **changes,
        },
    )


def save_successes(connection: Connection, successes: Sequence[Success]) -> list[str]:
    """Record each success on its source's row and queue its notices, in one transaction.

    The failure episode, if any, is over; a new source's row is created. Successes with
    and without validators, with and without entry marks, take one statement each.
    Returns the keys of the notices queued now.
    """
    driver = Driver(connection)
    for validators, marks in itertools.product((True, False), repeat=2):
        rows = []
        for success in successes:
            if (success.validators is not None) != validators:
                continue
            if (success.entry_marks is not None) != marks:
                continue
            kept = success.validators or Validators()
            rows.append(
                {
                    "source": success.source,
                    "kind": success.kind,
                    "now": success.now,
                    "next_poll_at": success.next_poll_at,
                    "etag": kept.etag,
                    "last_modified": kept.last_modified,
                    "new_item_at": success.now if success.new_items else None,
                    "entry_marks": success.entry_marks or None,
                }
            )
        if rows:
            driver.execute_many(_success_upsert(driver.dialect.name, validators, marks), rows)
    queued: list[str] = []
    for success in successes:
        if success.notices:
            queued += insert_notices(
                connection, success.notices, domain=success.domain, now=success.now
            )
    return queued


async def record_failure(
    db: Database,
    *,
    source: str,
    kind: str,
    error: str,
    now: datetime,
    backoff_until: datetime | None = None,
    notices: Sequence[AdminNotice] = (),
    domain: str = "localhost",
) -> list[str]:
    """Count a failed poll on the source's row and queue its notices, in one transaction.

    `backoff_until` becomes the row's `next_poll_at`: the source is not due before.
    Returns the keys of the notices queued now (their Message-IDs under `domain`).
    """
    c = SOURCES.c
    new = {
        "name": source,
        "kind": kind,
        "added_at": now,
        "polls": 0,
        "failures_total": 0,
        "consecutive_failures": 0,
    }
    count = (
        update(SOURCES)
        .where(c.name == source)
        .values(
            polls=c.polls + 1,
            failures_total=c.failures_total + 1,
            consecutive_failures=c.consecutive_failures + 1,
            failing_since=func.coalesce(c.failing_since, now),
            last_error=error[:MAX_ERROR_CHARS],
            last_poll_at=now,
            last_error_at=now,
            backoff_until=backoff_until,
            next_poll_at=backoff_until,
        )
    )

    def record(connection: Connection) -> list[str]:
        connection.execute(insert_ignoring(connection, SOURCES, ["name"]).values(new))
        connection.execute(count)
        return insert_notices(connection, notices, domain=domain, now=now)

    return await db.run_write(record)
