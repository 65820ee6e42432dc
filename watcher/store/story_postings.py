"""The SQLite writer's postings of story keys, kept between polls (issue 16).

A poll's lookup (`story_index.lookup`) reads the postings of its items' keys: which
items of other sources are filed under each key, dated within the window. In a round
of templated notes the same keys come back poll after poll, and re-reading their
postings from `story_keys` was much of clustering's cost. The writer keeps, per key
it read, every posting dated within a span of moments (`_Held`), adds what it files and
drops what it unfiles, so a later lookup of that key within that span reads nothing.

Coherence. Only SQLite keeps postings: it has one writer connection per process (the
writer thread), and `PRAGMA data_version` on that connection changes exactly when
another connection (another process, a replica, the CLI) commits a change to the file.
A transaction's `begin` checks it (and that the connection is the same one) and starts
from nothing when it moved. The process's own writes to `story_keys` go through
`Postings` (`filed`, `unfiled`) or drop everything (`forget`: the retention purge).
A transaction that began and did not `keep`, or whose commit failed (`forget`), leaves
nothing behind. On PostgreSQL replicas write concurrently and nothing tells a writer
cheaply what another changed: `begin` hands out a `Postings` that reads every key.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, select

from watcher.store.db import Database, chunked
from watcher.store.driver import Driver
from watcher.store.tables import STORY_KEYS

# keys whose postings are held at most (each fewer than `HOT_ITEMS` of a window, about
# 100 bytes a posting: at most about 26 MB, a few MB in practice, since most keys hold
# a few postings); past it the longest held go first
MAX_KEYS = 4_096
_Row = tuple[int, str, datetime]  # an item's id, source and moment
_K = STORY_KEYS.c
POSTINGS = select(_K.key, _K.item_id).where(
    _K.key.in_(bindparam("keys", expanding=True)),
    _K.source != bindparam("source"),
    _K.moment >= bindparam("start"),
    _K.moment <= bindparam("end"),
)
EVERY_POSTING = select(_K.key, _K.item_id, _K.source, _K.moment).where(
    _K.key.in_(bindparam("keys", expanding=True)),
    _K.moment >= bindparam("start"),
    _K.moment <= bindparam("end"),
)


# Every posting of one key dated `start` to `end` (and maybe some outside). Plain tuples
# all the way down: the collector stops tracking a tuple of strings, numbers and dates,
# so the thousands held do not lengthen every full collection (with lists and a class
# per key, the poll's other work grew slower by more than the reads it saved).
_Held = tuple[datetime, datetime, tuple[_Row, ...]]


@dataclass(slots=True)
class Postings:
    """One write transaction's view of the postings, through the writer's cache.

    `held` is the cache's table itself (None: nothing kept, every key read); changes
    go straight into it, and the cache drops it if the transaction does not end in
    `PostingsCache.keep`. `used` are the keys this transaction took from it.
    """

    driver: Driver
    held: dict[int, _Held] | None
    used: set[int] = field(default_factory=set)

    def read(
        self, keys: Sequence[int], *, source: str, start: datetime, end: datetime
    ) -> dict[int, list[int]]:
        """What `story_index.POSTINGS` gives for `keys`: the ids of the items of other
        sources filed under each key, dated `start` to `end` (keys without any left out)."""
        held = self.held
        found: dict[int, list[int]] = {}
        missing: list[int] = []
        for key in keys:
            entry = held.get(key) if held is not None else None
            if entry is None or entry[0] > start or entry[1] < end:
                missing.append(key)
                continue
            self.used.add(key)
            ids = [i for i, s, m in entry[2] if s != source and start <= m <= end]
            if ids:
                found[key] = ids
        if not missing:
            return found
        if held is None:
            return found | read_postings(self.driver, missing, source=source, start=start, end=end)
        rows = _fetch_rows(self.driver, missing, start, end)
        names: dict[str, str] = {}  # one string per source, not one per row
        for key in missing:
            held.pop(key, None)
            kept = tuple((i, names.setdefault(s, s), m) for i, s, m in rows.get(key, ()))
            held[key] = (start, end, kept)
            ids = [i for i, s, _ in kept if s != source]
            if ids:
                found[key] = ids
        return found

    def drop(self, keys: Iterable[int]) -> None:
        """Hold nothing for `keys` (hot ones: not filed while hot, read again after)."""
        if self.held is not None:
            for key in keys:
                self.held.pop(key, None)

    def filed(self, rows: Iterable[tuple[int, int, str, datetime]]) -> None:
        """Postings (key, item id, source, moment) this transaction inserted."""
        if self.held is None:
            return
        for key, item_id, source, moment in rows:
            entry = self.held.get(key)
            if entry is not None:
                self.held[key] = (entry[0], entry[1], (*entry[2], (item_id, source, moment)))

    def unfiled(self, item_ids: Iterable[int]) -> None:
        """Every posting of `item_ids` was deleted (a revision files them again)."""
        if self.held is None:
            return
        gone = set(item_ids)
        for key, (start, end, rows) in self.held.items():
            if any(i in gone for i, _, _ in rows):
                self.held[key] = (start, end, tuple(row for row in rows if row[0] not in gone))


class PostingsCache:
    """The postings one database's writer keeps between its transactions."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled  # False: every transaction reads every key
        self.served = 0  # keys lookups took from the held postings, all told
        self._held: dict[int, _Held] = {}
        self._stamp: tuple[Any, int] | None = None  # the writer connection, its data_version
        self._open = False  # a transaction began and has not kept

    def begin(self, driver: Driver) -> Postings:
        """The postings for a write transaction on `driver`, as the database has them."""
        if not self.enabled or driver.dialect.name != "sqlite":
            return Postings(driver, None)
        stamp = (driver.dbapi_connection, driver.pragma("data_version"))
        if self._open or self._stamp is None or self._stamp[0] is not stamp[0]:
            self._held = {}
        elif self._stamp[1] != stamp[1]:
            self._held = {}  # another connection committed since
        self._stamp, self._open = stamp, True
        return Postings(driver, self._held)

    def keep(self, postings: Postings) -> None:
        """Keep what `postings` hold for the next transaction (call just before commit)."""
        if postings.held is not self._held or not self.enabled:
            return
        self._open = False
        self.served += len(postings.used)
        excess = len(self._held) - MAX_KEYS
        if excess > 0:
            for key in list(itertools.islice(self._held, excess)):
                del self._held[key]

    def forget(self) -> None:
        """Hold nothing: a commit failed, or `story_keys` changed behind the postings."""
        self._held, self._stamp, self._open = {}, None, False

    def held(self) -> frozenset[int]:
        """The keys whose postings are held."""
        return frozenset(self._held)


_CACHES: WeakKeyDictionary[Database, PostingsCache] = WeakKeyDictionary()


def cache_of(db: Database) -> PostingsCache:
    """The postings `db`'s writer keeps (none kept on PostgreSQL)."""
    found = _CACHES.get(db)
    if found is None:
        found = _CACHES[db] = PostingsCache(enabled=not db.postgres)
    return found


def read_postings(
    driver: Driver, keys: Sequence[int], *, source: str, start: datetime, end: datetime
) -> dict[int, list[int]]:
    """The ids of the items of other sources filed under each of `keys`, dated `start`
    to `end` (keys without any left out), from the database."""
    found: dict[int, list[int]] = {}
    for chunk in chunked(keys):
        rows = driver.fetch(POSTINGS, {"keys": chunk, "source": source, "start": start, "end": end})
        for key, item_id in rows:
            ids = found.get(key)
            if ids is None:
                found[key] = [item_id]
            else:
                ids.append(item_id)
    return found


def _fetch_rows(
    driver: Driver, keys: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[_Row]]:
    """Every posting of `keys` dated `start` to `end`, whatever its source."""
    out: dict[int, list[_Row]] = {}
    for chunk in chunked(keys):
        for key, item_id, source, moment in driver.fetch(
            EVERY_POSTING, {"keys": chunk, "start": start, "end": end}
        ):
            out.setdefault(key, []).append((item_id, source, moment))
    return out
