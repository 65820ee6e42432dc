"""The Atom feed of signals (RFC 4287): the newest signals a filter wants, explained.

Each entry is one stored signal: a stable ID (`tag:` URI from the mail domain and the
signal's row id), the item's title and link, and in the content the signal's type,
direction, severity and its evidence sentences with the matched terms marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from xml.etree import ElementTree

from sqlalchemy import Connection, select

from watcher.config import SignalFilter, WatcherConfig
from watcher.domain.items import Evidence, Item, Signal
from watcher.notify.route import wants
from watcher.store.db import Database
from watcher.store.tables import ITEMS, SIGNALS
from watcher.store.values import ITEM_PREFIX, SIGNAL_PREFIX, item_value, labelled, signal_value

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SCAN_FACTOR = 10  # newest signals read per wanted entry before the filter is applied


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored signal with its item."""

    signal_id: int
    created_at: datetime
    signal: Signal
    item: Item


async def signals_for_feed(
    db: Database, config: WatcherConfig, wanted: SignalFilter, limit: int
) -> list[Entry]:
    """The newest (at most `limit`) stored signals that `wanted` lets through, newest first.

    Reads the newest `limit * SCAN_FACTOR` signals and filters them: a feed of a rare
    signal type may show fewer than `limit`.
    """
    query = labelled(
        select(SIGNALS, ITEMS)
        .join(ITEMS, ITEMS.c.id == SIGNALS.c.item_id)
        .order_by(SIGNALS.c.created_at.desc(), SIGNALS.c.id.desc())
        .limit(limit * SCAN_FACTOR)
    )

    def read(connection: Connection) -> list[Entry]:
        found = []
        for row in connection.execute(query).mappings():
            signal = signal_value(row, SIGNAL_PREFIX)
            if wants(wanted, signal):
                found.append(
                    Entry(
                        row["signals_id"],
                        row["signals_created_at"],
                        signal,
                        item_value(row, ITEM_PREFIX),
                    )
                )
            if len(found) >= limit:
                break
        return found

    return await db.run_read(read)


def render_feed(
    entries: list[Entry],
    config: WatcherConfig,
    *,
    title: str,
    feed_id: str,
    self_url: str,
    now: datetime,
) -> bytes:
    """The Atom document of `entries` (newest first), UTF-8.

    Built with the standard library's ElementTree, which escapes every text and
    attribute; characters XML 1.0 forbids (feed text may carry them) are dropped.
    """
    feed = ElementTree.Element("feed", xmlns=ATOM)
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    _text(feed, "updated", _when(max((e.created_at for e in entries), default=now)))
    ElementTree.SubElement(feed, "link", rel="self", href=_clean(self_url))
    author = ElementTree.SubElement(feed, "author")
    _text(author, "name", "Supply Watcher")
    _text(feed, "generator", "Supply Watcher")
    for entry in entries:
        s, item = entry.signal, entry.item
        label = config.signal_label(s.type)
        added = ElementTree.SubElement(feed, "entry")
        _text(added, "id", signal_tag(config, entry.signal_id))
        _text(added, "title", f"{label} · {s.direction.value} · {s.severity.value}: {item.title}")
        if item.link:
            ElementTree.SubElement(added, "link", rel="alternate", href=_clean(item.link))
        _text(added, "updated", _when(entry.created_at))
        if item.published is not None:
            _text(added, "published", _when(item.published))
        content = _text(added, "content", _content(label, s, item))
        content.set("type", "html")
    body: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def _text(parent: ElementTree.Element, tag: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag)
    element.text = _clean(text)
    return element


def _clean(text: str) -> str:
    """`text` without the characters XML 1.0 does not allow."""
    return _NOT_XML.sub("", text)


def _when(moment: datetime) -> str:
    """An RFC 3339 date-time in UTC."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def signal_tag(config: WatcherConfig, signal_id: int) -> str:
    """The stable Atom ID of a stored signal (RFC 4151 tag URI)."""
    return f"tag:{config.mail.domain},2026:signal/{signal_id}"


def feed_tag(config: WatcherConfig, name: str) -> str:
    """The stable Atom ID of a feed."""
    return f"tag:{config.mail.domain},2026:feed/{name}"


def _content(label: str, signal: Signal, item: Item) -> str:
    parts = [
        f"<p><strong>{escape(label)}</strong> · {escape(signal.direction.value)}"
        f" · severity {escape(signal.severity.value)} · score {signal.score:.2f}"
        f" · source {escape(item.source)}</p>"
    ]
    if signal.speculative:
        parts.append("<p><em>Speculative: the report says this might happen.</em></p>")
    parts.append("<ul>")
    parts.extend(f"<li>{marked(e)}</li>" for e in signal.evidence)
    parts.append("</ul>")
    names = [*signal.entities.elements, *signal.entities.products, *signal.entities.countries]
    if names:
        parts.append(f"<p>Entities: {escape(', '.join(names))}</p>")
    if item.link:
        parts.append(f'<p><a href="{escape(item.link)}">Read the report</a></p>')
    return "".join(parts)


def marked(evidence: Evidence) -> str:
    """The evidence sentence as HTML, each matched span in `<strong>` (feed readers keep it)."""
    text, out, at = evidence.sentence, [], 0
    for span in sorted(evidence.spans, key=lambda s: s.start):
        if span.start < at or span.end > len(text):
            continue
        out.append(escape(text[at : span.start]))
        out.append(f"<strong>{escape(text[span.start : span.end])}</strong>")
        at = span.end
    out.append(escape(text[at:]))
    return "".join(out)
