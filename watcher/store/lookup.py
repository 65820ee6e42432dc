"""What the store already knows of a source's items: read before a poll decides what is new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from watcher.store.db import Database, chunked
from watcher.store.tables import ITEMS


@dataclass(frozen=True, slots=True)
class KnownItem:
    """What the store remembers of an item, enough to tell new from changed."""

    id: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class Known:
    """A source's stored items among a poll's: by identity, and by link.

    `by_link` maps a link to the identity and item of the first stored item with it (to
    spot feeds that mint a new guid for the same story at every fetch).
    """

    items: dict[str, KnownItem] = field(default_factory=dict)
    by_link: dict[str, tuple[str, KnownItem]] = field(default_factory=dict)


async def known(
    db: Database, source: str, identities: Sequence[str], links: Sequence[str] = ()
) -> Known:
    """The stored items of `source` among `identities`, and among `links`: one snapshot."""
    i = ITEMS.c

    def read(connection: Connection) -> Known:
        found = Known()
        for chunk in chunked(identities):
            rows = connection.execute(
                select(i.identity, i.id, i.content_hash).where(
                    i.source == source, i.identity.in_(chunk)
                )
            )
            for identity, item_id, digest in rows:
                found.items[identity] = KnownItem(item_id, digest)
        for chunk in chunked(links):
            rows = connection.execute(
                select(i.link, i.identity, i.id, i.content_hash)
                .where(i.source == source, i.link.in_(chunk))
                .order_by(i.id)
            )
            for link, identity, item_id, digest in rows:
                if link is not None:
                    found.by_link.setdefault(link, (identity, KnownItem(item_id, digest)))
        return found

    return await db.run_read(read)
