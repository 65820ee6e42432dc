"""`full_text: true`: fetch each new item's article page and extract its main text.

Feeds often carry a teaser; classification deserves the article. The page is fetched
with the same client and limits as any source (per-host slots keep us polite) and
trafilatura extracts the text in a worker process, under the same deadline. A failure
keeps the teaser and becomes a warning: the poll never fails because of one article.
The link is the feed's choice, not the operator's: it and its redirects may reach only
public addresses (`watcher.sources.guard`); a refused link is counted and the item
keeps its feed text.
trafilatura is the optional `fulltext` extra; without it (the default container image)
the items keep their feed text and the poll warns, naming the extra.
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from watcher.concurrency.pool import Runs
from watcher.domain.errors import LinkRefused, SourceError
from watcher.domain.items import Item
from watcher.sources.charset import decode_html
from watcher.sources.http import Fetcher
from watcher.sources.offload import parse_in_worker

ACCEPT = "text/html, application/xhtml+xml;q=0.9"
INSTALLED = importlib.util.find_spec("trafilatura") is not None
NOT_INSTALLED = (
    "full text needs trafilatura, the optional `fulltext` extra: pip install"
    " 'supply-watcher[fulltext]', or build the image with --build-arg EXTRAS=fulltext;"
    " the feed text is kept"
)


@dataclass
class FullText:
    """What `add_full_text` did besides the items: warnings, and links refused (SSRF)."""

    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


async def add_full_text(
    items: list[Item], source: str, fetcher: Fetcher, pool: Runs, limit: int
) -> tuple[list[Item], FullText]:
    """`items` with bodies replaced by their article text where that is longer; what happened."""
    report = FullText()
    warnings = report.warnings
    wanted = [i for i in items if i.link and urlsplit(i.link).scheme in ("http", "https")]
    if wanted and not INSTALLED:
        report.warnings.append(NOT_INSTALLED)
        return items, report
    if len(wanted) > limit:
        warnings.append(f"full text fetched for {limit} of {len(wanted)} items (limit)")
        wanted = wanted[:limit]

    async def enrich(item: Item) -> tuple[str, str | None]:
        assert item.link is not None
        try:
            answer = await fetcher.get(item.link, source, accept=ACCEPT, untrusted=True)
            text = await parse_in_worker(
                pool,
                source,
                f"extracting {answer.url}",
                extract_text,
                answer.body,
                answer.url,
                answer.headers.get("content-type"),
            )
        except LinkRefused as exc:
            report.refused.append(exc.detail)
            return item.identity, None
        except SourceError as exc:
            warnings.append(f"full text of {item.link}: {exc}")
            return item.identity, None
        return item.identity, text

    found = dict(await asyncio.gather(*(enrich(item) for item in wanted)))
    out = []
    for item in items:
        text = found.get(item.identity)
        out.append(replace(item, body=text) if text and len(text) > len(item.body) else item)
    return out, report


def extract_text(data: bytes, url: str, content_type: str | None) -> str | None:
    """The main text of an article page (trafilatura), or None when it finds none."""
    import trafilatura  # the optional extra, imported where it runs: in the worker

    if not data:
        return None
    html = decode_html(data, content_type)
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, favor_precision=True
    )
    return text.strip() if text else None
