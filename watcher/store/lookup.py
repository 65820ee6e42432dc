"""What the store already knows of a source's items: read before a poll decides what is new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select

from watcher.store.db import Sessions, chunked
from watcher.store.tables import ItemRow


@dataclass(frozen=True, slots=True)
class KnownItem:
    """What the store remembers of an item, enough to tell new from changed."""

    id: int
    content_hash: str


async def known_items(db: Sessions, source: str, identities: Sequence[str]) -> dict[str, KnownItem]:
    """The stored items of `source` among `identities`, by identity (one query per 500)."""
    found: dict[str, KnownItem] = {}
    async with db() as session:
        for chunk in chunked(identities):
            rows = await session.exec(
                select(ItemRow.identity, ItemRow.id, ItemRow.content_hash).where(
                    ItemRow.source == source, col(ItemRow.identity).in_(chunk)
                )
            )
            for identity, item_id, digest in rows:
                assert item_id is not None
                found[identity] = KnownItem(item_id, digest)
    return found


async def known_links(db: Sessions, source: str, links: Sequence[str]) -> dict[str, str]:
    """The identities of stored items of `source` by their link (to spot churning guids)."""
    found: dict[str, str] = {}
    async with db() as session:
        for chunk in chunked(links):
            rows = await session.exec(
                select(ItemRow.link, ItemRow.identity).where(
                    ItemRow.source == source, col(ItemRow.link).in_(chunk)
                )
            )
            for link, identity in rows:
                if link is not None:
                    found.setdefault(link, identity)
    return found
