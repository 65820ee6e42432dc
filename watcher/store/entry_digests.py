"""The feed entries a source's last successful poll read, by digest: read before the next
poll (whose parser then skips them), written in that poll's own transaction.

An entry counts as seen only while its item is stored under the same identity and
content hash: the read joins the items, so an item purged by retention, or revised
since, makes its entry new bytes again (parsed, and handled as before).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, select

from watcher.store.db import Database, insert_ignoring
from watcher.store.lookup import KnownItem
from watcher.store.tables import ENTRY_DIGESTS, ITEMS


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """An entry's digest and the item it gave: its identity, link and content hash."""

    digest: str
    identity: str
    link: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class SeenEntry:
    """A recorded entry whose item is stored unchanged, and that stored item."""

    identity: str
    link: str | None
    item: KnownItem


@dataclass(frozen=True, slots=True)
class SeenEntries:
    """What a source's last poll recorded: `valid` entries by digest, and every digest."""

    valid: Mapping[str, SeenEntry] = field(default_factory=dict)
    recorded: frozenset[str] = frozenset()

    def offer(self) -> dict[str, tuple[str, str]]:
        """Digest → (identity, link) of the valid entries, as the parser gets them."""
        return {d: (e.identity, e.link or "") for d, e in self.valid.items()}


NO_ENTRIES = SeenEntries()


_D, _I = ENTRY_DIGESTS.c, ITEMS.c
# built once: a poll runs each of them, and building a statement costs more than its run
_SEEN = (
    select(_D.digest, _D.identity, _D.link, _I.id, _I.content_hash)
    .select_from(
        ENTRY_DIGESTS.outerjoin(
            ITEMS,
            and_(
                _I.source == _D.source,
                _I.identity == _D.identity,
                _I.content_hash == _D.content_hash,
            ),
        )
    )
    .where(_D.source == bindparam("source"))
)
_FORGET = delete(ENTRY_DIGESTS).where(
    _D.source == bindparam("forget_source"), _D.digest == bindparam("forget_digest")
)
_RECORD: dict[str, Any] = {}  # by dialect: insert, a row already there left as it is


async def load_seen(db: Database, source: str) -> SeenEntries:
    """The entries recorded for `source`; valid are those whose item is stored unchanged."""

    def read(connection: Connection) -> SeenEntries:
        valid: dict[str, SeenEntry] = {}
        recorded = []
        rows = connection.execute(_SEEN, {"source": source})
        for digest, identity, link, item_id, content_hash in rows:
            recorded.append(digest)
            if item_id is not None:
                valid[digest] = SeenEntry(identity, link, KnownItem(item_id, content_hash))
        return SeenEntries(valid=valid, recorded=frozenset(recorded))

    return await db.run_read(read)


def record_seen(
    connection: Connection,
    source: str,
    before: SeenEntries,
    kept: Iterable[str],
    fresh: Iterable[EntryRecord],
) -> None:
    """Replace `source`'s rows: keep the digests `kept`, add `fresh`, drop every other row
    of `before`. Called inside the poll's write transaction (`save_poll`'s `also`)."""
    kept_set = set(kept)
    gone = sorted(before.recorded - kept_set)
    if gone:
        forget = [{"forget_source": source, "forget_digest": digest} for digest in gone]
        connection.execute(_FORGET, forget)
    rows = [
        {
            "source": source,
            "digest": r.digest,
            "identity": r.identity,
            "link": r.link,
            "content_hash": r.content_hash,
        }
        for r in {r.digest: r for r in fresh if r.digest not in kept_set}.values()
    ]
    if rows:
        dialect = connection.dialect.name
        if dialect not in _RECORD:
            _RECORD[dialect] = insert_ignoring(connection, ENTRY_DIGESTS, ["source", "digest"])
        connection.execute(_RECORD[dialect], rows)


def recorder(
    source: str,
    before: SeenEntries,
    skipped: Iterable[str],
    entries: Iterable[tuple[str, str, str | None, str]],
    stored: Mapping[str, str],
) -> Callable[[Connection], None]:
    """The write that records a poll's entries (for `save_poll`'s `also`).

    `entries` are the (digest, identity, link, content hash) of the entries read;
    `stored` maps the identity of each item the poll leaves stored to its content hash.
    An entry is recorded only when its item is stored under its identity and hash (not
    one a churned guid was matched to by link, nor a duplicate that lost to another).
    """
    kept = tuple(skipped)
    fresh = [EntryRecord(*e) for e in entries if stored.get(e[1]) == e[3]]

    def write(connection: Connection) -> None:
        record_seen(connection, source, before, kept, fresh)

    return write
