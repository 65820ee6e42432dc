"""What a fetch returns, whatever the source kind."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from watcher.domain.identity import with_identity
from watcher.domain.items import Item


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered between polls (RFC 9110 §8.8)."""

    etag: str | None = None
    last_modified: str | None = None


# an entry's section digest and the item it gave: (digest, identity, link, content hash)
EntrySeen = tuple[str, str, str | None, str]


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a parser made of one document (returned from a worker process, so picklable).

    `min_interval` is the document's own hint of how often to poll (RSS `ttl`).
    `digests` is empty, or holds for each item the digest of the entry it came from
    (`watcher.sources.sections`); `skipped` the digests of the entries seen before and
    not parsed again.
    """

    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    min_interval: timedelta | None = None
    digests: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    def identified(self, mode: str) -> Parsed:
        """The same, each item with its identity and content hash (`with_identity`).

        Parsers call it in the worker, so the service's event loop does not hash.
        """
        return replace(self, items=[with_identity(item, mode) for item in self.items])

    def seen(self) -> tuple[EntrySeen, ...]:
        """The parsed entries as recorded for the next poll (none when not cut in entries)."""
        if not self.digests:
            return ()
        return tuple(
            (digest, item.identity, item.link, item.content_hash)
            for digest, item in zip(self.digests, self.items, strict=True)
        )


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The items a source offers now, or `not_modified` when the server said 304.

    The items come with their identity and content hash, by the source's `identity`
    mode (`watcher.domain.identity.with_identity`).

    `min_interval` is the longest of the server's hints (Cache-Control max-age, RSS ttl):
    the scheduler polls no sooner than that. `entries` are the feed entries read, to be
    recorded once the poll stored their items; `skipped` the digests of the entries seen
    before and not read again (`watcher.sources.sections`).
    """

    items: list[Item] = field(default_factory=list)
    not_modified: bool = False
    validators: Validators = Validators()
    warnings: list[str] = field(default_factory=list)
    min_interval: timedelta | None = None
    entries: tuple[EntrySeen, ...] = ()
    skipped: tuple[str, ...] = ()
