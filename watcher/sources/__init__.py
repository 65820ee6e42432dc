"""Sources: fetch documents and turn them into `Item`s, one module per kind.

Each kind of source is a `SourceKind`: how a source of that kind is fetched and what
its items allow. The pipeline asks `fetch_source` and `wants_full_text`, found by the
source's `kind`; no other package tests a source's config class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from watcher.concurrency.pool import Runs
from watcher.config import FeedSource, FilesSource, PageSource, Source
from watcher.sources import tls  # noqa: F401  (first: aiohttp, its CA stores loaded on demand)
from watcher.sources.entry_marks import Seen
from watcher.sources.feed import fetch_feed
from watcher.sources.files import read_folder
from watcher.sources.http import Fetcher
from watcher.sources.page import fetch_page
from watcher.sources.result import FetchResult, Validators

__all__ = [
    "FetchResult",
    "Fetcher",
    "SourceKind",
    "Validators",
    "fetch_source",
    "kind_of",
    "wants_full_text",
]

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class SourceKind(Generic[S]):
    """What one kind of source does.

    `fetch` gets a source's current items (`SourceError` when it fails); `full_text` is
    whether its items link to article pages, whose text `full_text: true` fetches.
    """

    fetch: Callable[[S, Validators, Fetcher, Runs], Awaitable[FetchResult]]
    full_text: bool


FEED: SourceKind[FeedSource] = SourceKind(fetch=fetch_feed, full_text=True)
PAGE: SourceKind[PageSource] = SourceKind(fetch=fetch_page, full_text=True)
# a folder needs no validators, HTTP or workers, and its items are the documents
FILES: SourceKind[FilesSource] = SourceKind(
    fetch=lambda source, *_: read_folder(source), full_text=False
)
KINDS: Mapping[str, SourceKind[Any]] = {"feed": FEED, "page": PAGE, "files": FILES}


def kind_of(source: Source) -> SourceKind[Any]:
    """The kind of `source`, by its `kind:` key."""
    return KINDS[source.kind]


async def fetch_source(
    source: Source,
    validators: Validators,
    fetcher: Fetcher,
    pool: Runs,
    seen: Callable[[], Seen] | None = None,
) -> FetchResult:
    """Fetch one source's current items; raises `SourceError` when the source fails.

    `seen` (asked only when a document came: the entries whose items are stored
    unchanged, `watcher.sources.entry_marks`) lets a feed skip parsing them and report
    its entries (`fetch_feed`); the other kinds ignore it.
    """
    if seen is not None and isinstance(source, FeedSource):
        return await fetch_feed(source, validators, fetcher, pool, seen)
    return await kind_of(source).fetch(source, validators, fetcher, pool)


def wants_full_text(source: Source) -> bool:
    """True when `source` asks for its new items' article text and its kind has articles."""
    return kind_of(source).full_text and bool(getattr(source, "full_text", False))
