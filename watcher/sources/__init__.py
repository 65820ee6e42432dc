"""Sources: fetch documents and turn them into `Item`s, one module per kind."""

from __future__ import annotations

import httpx

from watcher.config import FeedSource, FilesSource, HttpConfig, Source
from watcher.sources.feed import fetch_feed
from watcher.sources.files import read_folder
from watcher.sources.result import FetchResult, Validators

__all__ = ["FetchResult", "Validators", "fetch_source"]


async def fetch_source(
    source: Source, validators: Validators, client: httpx.AsyncClient, http: HttpConfig
) -> FetchResult:
    """Fetch one source's current items; raises `SourceError` when the source fails."""
    if isinstance(source, FeedSource):
        return await fetch_feed(source, validators, client, http)
    if isinstance(source, FilesSource):
        return await read_folder(source)
    raise TypeError(f"unknown source kind {type(source).__name__}")
