"""HTML listing pages without a feed: CSS selectors pick the items (selectolax, lexbor).

The item selector matching nothing on a page that answered 200 is `PageChangedError`:
the site was probably redesigned, and the admins hear about it instead of silence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from watcher.concurrency.pool import Runs
from watcher.config import PageSelectors, PageSource
from watcher.domain.errors import PageChangedError
from watcher.domain.items import Item
from watcher.sources.charset import decode_html
from watcher.sources.dates import Stated, read_date
from watcher.sources.html import html_to_text, one_line
from watcher.sources.http import Fetcher
from watcher.sources.offload import parse_in_worker
from watcher.sources.result import FetchResult, Parsed, Validators

if TYPE_CHECKING:  # the parser loads where a page is parsed, not with the service
    from selectolax.lexbor import LexborHTMLParser, LexborNode

MAX_TITLE = 500
MAX_ITEMS = 500
ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


async def fetch_page(
    source: PageSource, validators: Validators, fetcher: Fetcher, pool: Runs
) -> FetchResult:
    """GET the listing page (conditionally) and read its items with the source's selectors."""
    answer = await fetcher.get(source.url, source.name, validators, accept=ACCEPT)
    if answer.not_modified:
        return FetchResult(not_modified=True, validators=validators, min_interval=answer.max_age)
    parsed = await parse_in_worker(
        pool,
        source.name,
        f"parsing {answer.url}",
        parse_page,
        answer.body,
        source.name,
        answer.url,
        answer.headers.get("content-type"),
        source.select,
        source.identity,
        source.timezone,
    )
    return FetchResult(
        items=parsed.items,
        validators=answer.validators,
        warnings=parsed.warnings,
        min_interval=answer.max_age,
    )


def parse_page(
    data: bytes,
    source: str,
    url: str,
    content_type: str | None,
    select: PageSelectors,
    identity: str = "auto",
    zone: str = "UTC",
) -> Parsed:
    """The items the selectors find, identified by the `identity` mode; runs in a worker.

    A date the page prints without an offset is read in `zone` (the source's); one
    without a time of day stays a day (`Item.published_day`).
    `PageChangedError` when the item selector finds none.
    """
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode_html(data, content_type))
    base = _base(tree, url)
    nodes = tree.css(select.item)
    if not nodes:
        raise PageChangedError(
            source, f"the item selector {select.item!r} matched nothing on {url}"
        )
    items: list[Item] = []
    for node in nodes[:MAX_ITEMS]:
        item = _item(node, source, base, select, zone)
        if item is not None:
            items.append(item)
    warnings = [] if items else [f"{len(nodes)} elements matched but none had a title or link"]
    if len(nodes) > MAX_ITEMS:
        warnings.append(f"{len(nodes)} items matched; only the first {MAX_ITEMS} were read")
    return Parsed(items=items, warnings=warnings).identified(identity)


def _base(tree: LexborHTMLParser, url: str) -> str:
    """The page's `<base href>` when it is http(s), else the page's own URL."""
    node = tree.css_first("base[href]")
    href = (node.attributes.get("href") or "") if node is not None else ""
    resolved = urljoin(url, href.strip()) if href else url
    return resolved if urlsplit(resolved).scheme in ("http", "https") else url


def _item(
    node: LexborNode, source: str, base: str, select: PageSelectors, zone: str
) -> Item | None:
    title_node = _first(node, select.title)
    title = one_line(title_node.text(separator=" ")) if title_node is not None else ""
    link_node = _first(node, select.link or select.title)
    href = (link_node.attributes.get("href") or "").strip() if link_node is not None else ""
    link = urljoin(base, href) if href else None
    if link is not None and urlsplit(link).scheme not in ("http", "https"):
        link = None  # javascript:, mailto: and friends are not article links
    summary_node = _first(node, select.summary) if select.summary else None
    summary = html_to_text(summary_node.html or "") if summary_node is not None else ""
    if not title and not link:
        return None
    stated = _date(node, select, zone)
    return Item(
        source=source,
        title=title[:MAX_TITLE],
        body=summary,
        link=link,
        published=stated.when if stated else None,
        published_day=stated.day if stated else None,
    )


def _first(node: LexborNode, selector: str) -> LexborNode | None:
    """The first match inside `node`, or `node` itself when it matches (e.g. `a` items)."""
    found = node.css_first(selector)
    if found is None and node.css_matches(selector):
        return node
    return found


def _date(node: LexborNode, select: PageSelectors, zone: str) -> Stated | None:
    if not select.date:
        return None
    date_node = _first(node, select.date)
    if date_node is None:
        return None
    attrs = date_node.attributes
    raw = attrs.get("datetime") or attrs.get("content") or date_node.text(separator=" ")
    return read_date(raw or "", select.date_format, zone)
