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


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a parser made of one document (returned from a worker process, so picklable).

    `min_interval` is the document's own hint of how often to poll (RSS `ttl`).
    `digests` is empty, or holds for each item the digest of the feed entry it came from
    (`watcher.sources.sections`); `skipped` the digests of the entries not parsed again.
    """

    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    min_interval: timedelta | None = None
    digests: tuple[bytes, ...] = ()
    skipped: tuple[bytes, ...] = ()

    def identified(self, mode: str) -> Parsed:
        """The same, each item with its identity and content hash (`with_identity`).

        Parsers call it in the worker, so the service's event loop does not hash.
        """
        return replace(self, items=[with_identity(item, mode) for item in self.items])


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The items a source offers now, or `not_modified` when the server said 304.

    The items come with their identity and content hash, by the source's `identity`
    mode (`watcher.domain.identity.with_identity`).

    `min_interval` is the longest of the server's hints (Cache-Control max-age, RSS ttl):
    the scheduler polls no sooner than that. `digests` and `skipped` are a feed's entries
    as its parse reported them (`Parsed`): the entry of each item, and the entries whose
    items are stored unchanged and were not read again.
    """

    items: list[Item] = field(default_factory=list)
    not_modified: bool = False
    validators: Validators = Validators()
    warnings: list[str] = field(default_factory=list)
    min_interval: timedelta | None = None
    digests: tuple[bytes, ...] = ()
    skipped: tuple[bytes, ...] = ()
