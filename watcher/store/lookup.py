"""What the store already knows of a source's items: read before a poll decides what is new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from watcher.store.db import Database, chunked
from watcher.store.tables import ITEMS


@dataclass(frozen=True, slots=True)
class KnownItem:
    """What the store remembers of an item, enough to tell new from changed."""

    id: int
    content_hash: str


async def known_items(db: Database, source: str, identities: Sequence[str]) -> dict[str, KnownItem]:
    """The stored items of `source` among `identities`, by identity (one query per 500)."""

    def read(connection: Connection) -> dict[str, KnownItem]:
        found: dict[str, KnownItem] = {}
        for chunk in chunked(identities):
            rows = connection.execute(
                select(ITEMS.c.identity, ITEMS.c.id, ITEMS.c.content_hash).where(
                    ITEMS.c.source == source, ITEMS.c.identity.in_(chunk)
                )
            )
            for identity, item_id, digest in rows:
                found[identity] = KnownItem(item_id, digest)
        return found

    return await db.run_read(read)


async def known_links(db: Database, source: str, links: Sequence[str]) -> dict[str, str]:
    """The identities of stored items of `source` by their link (to spot churning guids)."""

    def read(connection: Connection) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunked(links):
            rows = connection.execute(
                select(ITEMS.c.link, ITEMS.c.identity).where(
                    ITEMS.c.source == source, ITEMS.c.link.in_(chunk)
                )
            )
            for link, identity in rows:
                if link is not None:
                    found.setdefault(link, identity)
        return found

    return await db.run_read(read)
