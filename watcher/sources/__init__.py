"""Sources: fetch documents and turn them into `Item`s, one module per kind."""

from __future__ import annotations

from watcher.concurrency.pool import ParserPool
from watcher.config import FeedSource, FilesSource, PageSource, Source
from watcher.sources.feed import fetch_feed
from watcher.sources.files import read_folder
from watcher.sources.http import Fetcher
from watcher.sources.page import fetch_page
from watcher.sources.result import FetchResult, Validators

__all__ = ["FetchResult", "Fetcher", "ParserPool", "Validators", "fetch_source"]


async def fetch_source(
    source: Source, validators: Validators, fetcher: Fetcher, pool: ParserPool
) -> FetchResult:
    """Fetch one source's current items; raises `SourceError` when the source fails."""
    if isinstance(source, FeedSource):
        return await fetch_feed(source, validators, fetcher, pool)
    if isinstance(source, PageSource):
        return await fetch_page(source, validators, fetcher, pool)
    if isinstance(source, FilesSource):
        return await read_folder(source)
    raise TypeError(f"unknown source kind {type(source).__name__}")
