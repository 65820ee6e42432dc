"""RSS / Atom / JSON feeds: a conditional GET, then parsing in a worker process.

feedparser always gets the fetched bytes (wrapped in `io.BytesIO`), never a URL or a
path string: given a string it would open files or URLs by itself. Its DOCTYPE handling
keeps only plain-text entities and its SAX parser has external entities switched off,
so neither "billion laughs" nor `file://` entities expand (tests/test_hostile.py).
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from watcher.concurrency.pool import Runs
from watcher.config import FeedSource
from watcher.domain.errors import ParseError
from watcher.domain.items import Item
from watcher.sources.charset import declared_in_document, guess_charset, header_charset
from watcher.sources.entry_marks import NO_HASH, Seen, short_hash
from watcher.sources.html import html_to_text, one_line
from watcher.sources.http import Fetcher, HttpResult
from watcher.sources.jsonfeed import looks_like_json, parse_json_feed
from watcher.sources.offload import parse_in_worker
from watcher.sources.result import FetchResult, Parsed, Validators
from watcher.sources.trim import trim_feed

MAX_TITLE = 500
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


async def fetch_feed(
    source: FeedSource,
    validators: Validators,
    fetcher: Fetcher,
    pool: Runs,
    seen: Callable[[], Seen] | None = None,
) -> FetchResult:
    """GET the feed (conditionally) and parse it; 304 gives `not_modified` and costs no parse.

    With `seen` (asked once a document came: the entries whose items are stored
    unchanged, `watcher.sources.entry_marks`) the parse cuts those entries out and
    reports the entry of each item it read (`parse_document`); without it the document
    is read whole and no entry is reported.
    """
    answer = await fetcher.get(source.url, source.name, validators, accept=ACCEPT)
    if answer.not_modified:
        return FetchResult(
            not_modified=True, validators=_kept(validators, answer), min_interval=answer.max_age
        )
    parsed = await parse_in_worker(
        pool,
        source.name,
        f"parsing {answer.url}",
        parse_document,
        answer.body,
        source.name,
        answer.url,
        answer.headers,
        source.identity,
        None if seen is None else seen(),
    )
    hints = [h for h in (answer.max_age, parsed.min_interval) if h is not None]
    return FetchResult(
        items=parsed.items,
        validators=answer.validators,
        warnings=parsed.warnings,
        min_interval=max(hints, default=None),
        digests=parsed.digests,
        skipped=parsed.skipped,
    )


def _kept(old: Validators, answer: HttpResult) -> Validators:
    """A 304 may carry fresh validators (RFC 9110 §15.4.5); otherwise keep the old ones."""
    fresh = answer.validators
    return Validators(
        etag=fresh.etag or old.etag, last_modified=fresh.last_modified or old.last_modified
    )


def parse_document(
    data: bytes,
    source: str,
    base_url: str = "",
    headers: dict[str, str] | None = None,
    identity: str = "auto",
    seen: Seen | None = None,
) -> Parsed:
    """A JSON Feed or an XML feed document as items identified by the `identity` mode.

    With `seen` (digest → identity and link hashes of the entries whose items a poll
    stored), an XML document is cut into entries (`watcher.sources.sections`): those in
    `seen` are not parsed (`skipped` names them) and `digests` gives the entry of each
    item read. When an item read has the identity or the link of a skipped entry (the
    poll tells such entries apart only by reading them all), the whole document is read,
    still reporting its entries. Runs in a parser worker.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if looks_like_json(data, headers.get("content-type", "")):
        return parse_json_feed(data, source, base_url).identified(identity)
    if seen is None:
        return parse_feed(data, source, base_url, headers).identified(identity)
    parsed = parse_feed(data, source, base_url, headers, seen=seen, identity=identity)
    parsed = parsed.identified(identity)
    if parsed.skipped and _collides(parsed, seen):
        parsed = parse_feed(data, source, base_url, headers, seen={}, identity=identity)
        parsed = parsed.identified(identity)
    return parsed


def _collides(parsed: Parsed, seen: Seen) -> bool:
    """True when an item read has the identity or the link of an entry skipped."""
    identities = {seen[d][0] for d in parsed.skipped}
    links = {seen[d][1] for d in parsed.skipped} - {NO_HASH}
    return any(
        short_hash(i.identity) in identities or (i.link and short_hash(i.link) in links)
        for i in parsed.items
    )


def parse_feed(
    data: bytes,
    source: str,
    base_url: str = "",
    headers: dict[str, str] | None = None,
    *,
    seen: Seen | None = None,
    identity: str = "auto",
) -> Parsed:
    """Items of an XML feed and its warnings; `ParseError` if nothing usable is in it.

    With `seen`, the entries are found and digested (the URL, content type and
    `identity` mode are part of their context) and those in `seen` are cut out before
    parsing, unless the cut document reads otherwise than its entries promise (then it
    is read whole). `digests` is filled only when every entry read is accounted for.
    """
    data, trimmed = trim_feed(data)
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if base_url:
        response_headers.setdefault("content-location", base_url)
    content_type = response_headers.get("content-type", "")
    if not header_charset(content_type) and not declared_in_document(data):
        guess = guess_charset(data)
        if guess:
            # an undeclared GBK/Big5/... feed: tell feedparser, which would assume cp1252
            response_headers["content-type"] = (
                f"{content_type or 'application/xml'}; charset={guess}"
            )
    sections, document = None, data
    if seen is not None:
        # imported here: a round of 304s never cuts a document
        from watcher.sources.sections import context_of, find_sections, without

        context = context_of(
            response_headers.get("content-location", ""),
            response_headers.get("content-type", ""),
            identity,
        )
        sections = find_sections(data, context)
    skip = {d for d in sections.digests if d in seen} if sections and seen else set()
    if sections and skip:
        document = without(data, sections, skip)
    parsed = _read(document, source, response_headers)
    entries = parsed.get("entries") or []
    read = [d for d in sections.digests if d not in skip] if sections else []
    if skip and (parsed.get("bozo") or len(entries) != len(read)):
        # the cut document does not read as its entries promise: read it whole
        skip, read = set(), list(sections.digests) if sections else []
        parsed = _read(data, source, response_headers)
        entries = parsed.get("entries") or []
    warnings = [trimmed] if trimmed else []
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        reason = f"{type(problem).__name__}: {problem}" if problem else "malformed document"
        if not entries and not parsed.get("version"):
            raise ParseError(source, f"not a feed ({reason})")
        warnings.append(reason)
    recorded = sections is not None and not parsed.get("bozo") and len(entries) == len(read)
    items: list[Item] = []
    digests: list[bytes] = []
    for entry, digest in zip(entries, read if recorded else [b""] * len(entries), strict=True):
        if (item := _entry_item(entry, source)) is not None:
            items.append(item)
            digests.append(digest)
    return Parsed(
        items=items,
        warnings=warnings,
        min_interval=_ttl(parsed.get("feed") or {}),
        digests=tuple(digests) if recorded else (),
        skipped=tuple(d for d in sections.digests if d in skip) if sections else (),
    )


def _read(data: bytes, source: str, response_headers: dict[str, str]) -> Any:
    """feedparser's reading of `data`; `ParseError` when feedparser itself raises."""
    # imported here: a round of 304s never parses, so it never pays for the import
    # (the forkserver preloads feedparser for the worker processes)
    from watcher.sources.feedparsing import load_feedparser

    feedparser = load_feedparser()
    try:
        # feedparser's own passes over each entry's HTML (sanitizing it, making its links
        # absolute) are off: `html_to_text` keeps only the visible text (scripts and styles
        # dropped), and no link inside the markup is kept, so both passes, which run
        # feedparser's pure-Python HTML parser once more per entry, were a quarter of a
        # feed's parse for nothing. The entry's own link is made absolute all the same.
        return feedparser.parse(
            io.BytesIO(data),
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser raises on some inputs instead of setting bozo
        raise ParseError(source, f"feedparser failed: {type(exc).__name__}: {exc}") from None


def _ttl(feed: Any) -> timedelta | None:
    """RSS 2.0 `<ttl>`: minutes the feed may be cached."""
    value = str(feed.get("ttl") or "").strip()
    return timedelta(minutes=int(value)) if value.isdigit() and int(value) < 10**6 else None


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
    """The longest of the entry's content and summary, measured as text.

    Measured after `html_to_text`, not as markup: with feedparser's sanitizer off, a
    content element padded with a style sheet or a script is long markup but short
    text, and must not win over the summary that carries the report. Equal candidates
    (a summary feedparser copied from the content) are read once.
    """
    candidates = [str(c.get("value") or "") for c in entry.get("content") or []]
    candidates.append(str(entry.get("summary") or ""))
    texts = [html_to_text(markup) for markup in dict.fromkeys(c for c in candidates if c)]
    return max(texts, key=len, default="")


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None
