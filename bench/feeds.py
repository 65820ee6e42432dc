"""The farm's documents: synthetic RSS feeds, deterministic from a spec.

`initial_documents(spec)` gives every feed's document as the farm serves it right after
start; the same spec (with the same `epoch`) gives the same bytes in any process, and
`documents_digest` proves it. `write_documents`/`read_documents` move them to the parse
floor without rebuilding them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from bench.templated import templated_item
from bench.textgen import make_item, publication_name


@dataclass(frozen=True, slots=True)
class FarmSpec:
    """What the farm serves; the same spec (with the same `epoch`) gives the same bytes."""

    n: int = 1000
    m: int = 20
    seed: int = 8
    epoch: int = 1_790_000_000
    signal_fraction: float = 0.25
    latency: float = 0.1
    gzip: bool = False
    template: bool = False  # every feed writes templated market notes (`bench.templated`)


@dataclass(slots=True)
class Entry:
    """One item of a feed: its index in the feed's history, pubDate, and kind."""

    index: int
    published: int
    signal: bool | None


def render_feed(spec: FarmSpec, number: int, entries: Iterable[Entry]) -> bytes:
    """The RSS 2.0 document of one feed for `entries` (newest first)."""
    name = publication_name(spec.seed, number)
    site = f"https://news{number % 97}.example.com"
    parts = []
    newest = 0
    for entry in entries:
        if spec.template:
            item = templated_item(spec.seed, number, entry.index, spec.epoch)
        else:
            item = make_item(
                spec.seed,
                number,
                entry.index,
                signal=entry.signal,
                signal_fraction=spec.signal_fraction,
                # published signal items are long: distinct stories need room to differ
                words=(170, 200) if entry.signal else (60, 200),
                when=datetime.fromtimestamp(entry.published, UTC).date(),
            )
        newest = max(newest, entry.published)
        slug = "-".join(re.findall(r"[a-z0-9]+", item.title.lower())[:6])
        if number % 2:
            description = escape(item.body)
        else:
            # half the feeds carry HTML in the description, as much of the trade press does
            words = item.body.split()
            half = len(words) // 2
            html = f"<p>{' '.join(words[:half])}</p><p>{' '.join(words[half:])}</p>"
            description = escape(html)
        parts.append(
            "    <item>\n"
            f"      <title>{escape(item.title)}</title>\n"
            f"      <link>{site}/{slug}-{number}-{entry.index}</link>\n"
            f'      <guid isPermaLink="false">farm-{spec.seed}-{number}-{entry.index}</guid>\n'
            f"      <pubDate>{http_date(entry.published)}</pubDate>\n"
            f"      <description>{description}</description>\n"
            "    </item>\n"
        )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n  <channel>\n'
        f"    <title>{escape(name)}</title>\n    <link>{site}/</link>\n"
        f"    <description>Rare earth and critical minerals news from {escape(name)}"
        "</description>\n    <language>en</language>\n"
        f"    <lastBuildDate>{http_date(newest or spec.epoch)}</lastBuildDate>\n"
        f"{''.join(parts)}  </channel>\n</rss>\n"
    )
    return document.encode("utf-8")


def initial_entries(spec: FarmSpec, number: int) -> list[Entry]:
    """A feed's entries before anything is published: M items, one a minute up to `epoch`."""
    return [
        Entry(index=j, published=spec.epoch - (spec.m - 1 - j) * 60, signal=None)
        for j in reversed(range(spec.m))
    ]


def initial_documents(spec: FarmSpec) -> list[bytes]:
    """Every feed's document as the farm serves it right after start."""
    return [render_feed(spec, i, initial_entries(spec, i)) for i in range(spec.n)]


def write_documents(documents: Iterable[bytes], path: Path) -> None:
    """Store documents as length-prefixed records (read back by `read_documents`)."""
    with path.open("wb") as handle:
        for document in documents:
            handle.write(len(document).to_bytes(8, "big"))
            handle.write(document)


def read_documents(path: Path) -> list[bytes]:
    """The documents `write_documents` stored, in order."""
    data = path.read_bytes()
    documents, position = [], 0
    while position < len(data):
        size = int.from_bytes(data[position : position + 8], "big")
        documents.append(data[position + 8 : position + 8 + size])
        position += 8 + size
    return documents


def documents_digest(documents: Iterable[bytes]) -> str:
    """A SHA-256 over the documents, to check two processes built the same bytes."""
    digest = hashlib.sha256()
    for document in documents:
        digest.update(len(document).to_bytes(8, "big"))
        digest.update(document)
    return digest.hexdigest()


def http_date(timestamp: int) -> str:
    """An HTTP-date (RFC 9110 §5.6.7) for a Unix time."""
    return format_datetime(datetime.fromtimestamp(timestamp, UTC), usegmt=True)
