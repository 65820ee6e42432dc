"""RSS / Atom / JSON feeds: conditional GET with httpx, parsing with feedparser.

feedparser always gets the fetched bytes (wrapped in `io.BytesIO`), never a URL or a
path string: given a string it would open files or URLs by itself.
"""

from __future__ import annotations

import asyncio
import calendar
import io
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx

from watcher.config import FeedSource, HttpConfig
from watcher.errors import FetchError, ParseError
from watcher.items import Item
from watcher.sources.html import html_to_text, one_line
from watcher.sources.result import FetchResult, Validators

MAX_TITLE = 500


async def fetch_feed(
    source: FeedSource, validators: Validators, client: httpx.AsyncClient, http: HttpConfig
) -> FetchResult:
    """GET the feed (conditionally) and parse it; 304 gives `not_modified`."""
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    try:
        async with asyncio.timeout(http.timeout.total_seconds()):
            response, body = await _get(client, source.url, headers, http.max_bytes, source.name)
    except TimeoutError:
        raise FetchError(
            source.name, f"no complete answer from {source.url} within {http.timeout}"
        ) from None
    except httpx.HTTPError as exc:
        raise FetchError(source.name, f"{type(exc).__name__} for {source.url}: {exc}") from None
    if response.status_code == 304:
        return FetchResult(not_modified=True, validators=validators)
    fresh = Validators(
        etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified")
    )
    items, warnings = await asyncio.to_thread(
        parse_feed, body, source.name, str(response.url), dict(response.headers)
    )
    return FetchResult(items=items, validators=fresh, warnings=warnings)


async def _get(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], limit: int, name: str
) -> tuple[httpx.Response, bytes]:
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 304:
            return response, b""
        if response.status_code >= 400:
            raise FetchError(name, f"HTTP {response.status_code} from {url}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise FetchError(name, f"body of {url} exceeds {limit} bytes; not read further")
        return response, bytes(body)


def parse_feed(
    data: bytes, source: str, base_url: str = "", headers: dict[str, str] | None = None
) -> tuple[list[Item], list[str]]:
    """Items of a feed document and parse warnings; `ParseError` if nothing usable is in it."""
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if base_url:
        response_headers.setdefault("content-location", base_url)
    try:
        parsed = feedparser.parse(io.BytesIO(data), response_headers=response_headers)
    except Exception as exc:  # feedparser raises on some inputs instead of setting bozo
        raise ParseError(source, f"feedparser failed: {type(exc).__name__}: {exc}") from None
    entries = parsed.get("entries") or []
    warnings: list[str] = []
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        reason = f"{type(problem).__name__}: {problem}" if problem else "malformed document"
        if not entries and not parsed.get("version"):
            raise ParseError(source, f"not a feed ({reason})")
        warnings.append(reason)
    items = [item for entry in entries if (item := _entry_item(entry, source)) is not None]
    return items, warnings


def _entry_item(entry: Any, source: str) -> Item | None:
    title = one_line(html_to_text(str(entry.get("title") or "")))[:MAX_TITLE]
    body = _body(entry)
    if not title and not body:
        return None
    link = str(entry.get("link") or "").strip() or None
    guid = str(entry.get("id") or "").strip() or None
    return Item(
        source=source,
        title=title,
        body=body,
        link=link,
        guid=guid,
        published=_published(entry),
    )


def _body(entry: Any) -> str:
    """The longest of the entry's content and summary, as text."""
    candidates = [str(c.get("value") or "") for c in entry.get("content") or []]
    candidates.append(str(entry.get("summary") or ""))
    best = max(candidates, key=len)
    return html_to_text(best)


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None
