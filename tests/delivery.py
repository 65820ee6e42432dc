"""Helpers for the delivery tests: feeds built from entries, one poll-and-dispatch cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from sqlmodel import select

from tests.clock import Clock
from tests.orm import reading
from tests.rows import MappedRow
from watcher.config import WatcherConfig
from watcher.domain.items import Item, Signal
from watcher.notify.route import route
from watcher.notify.sender import DispatchReport
from watcher.service.rounds import (
    dispatch_all,
    poll_with_deadline,
    prepare_sources,
    produce_due_digests,
)
from watcher.service.runtime import Runtime
from watcher.sources.result import Validators
from watcher.store.db import open_database
from watcher.store.poll import ItemPlan, save_poll
from watcher.store.source_state import Success

Row = TypeVar("Row", bound=MappedRow)

BAN = (
    "China bans dysprosium exports",
    "China imposed an export ban on dysprosium and terbium to the United States.",
)
FLOOD = (
    "Lynas halts concentrate output at Mount Weld after flooding",
    "Flooding at the Mount Weld mine halted rare earth concentrate output.",
)
QUOTA = (
    "Mining quotas late",
    "China has delayed issuing its first batch of rare earth mining quotas for 2025.",
)
SCRAP = ("Scrap short in Ningbo", "Recyclers in Ningbo report a severe shortage of NdFeB scrap.")
RUMOUR = (
    "Gallium rumour",
    "Traders said China may impose an export ban on gallium next month, according to"
    " unconfirmed reports.",
)
MYANMAR = (
    "Myanmar border closed",
    "Myanmar closed the Kachin border crossing, halting rare earth ore shipments to China.",
)


@dataclass(frozen=True)
class Entry:
    """One RSS item; `description` is put in as given (escape HTML yourself if wanted)."""

    title: str
    description: str
    guid: str
    link: str | None = None


def entries(*pairs: tuple[str, str]) -> list[Entry]:
    """Entries with guids e1, e2, … and example.com links from (title, text) pairs."""
    return [
        Entry(title, text, f"e{n}", f"https://example.com/news/e{n}")
        for n, (title, text) in enumerate(pairs, 1)
    ]


def feed_xml(items: Sequence[Entry]) -> bytes:
    """An RSS 2.0 document of `items` (titles and descriptions XML-escaped)."""
    parts = []
    for item in items:
        link = f"<link>{escape(item.link)}</link>" if item.link else ""
        parts.append(
            f"<item><title>{escape(item.title)}</title>{link}"
            f"<guid isPermaLink='false'>{escape(item.guid)}</guid>"
            f"<pubDate>Thu, 03 Jul 2025 08:30:00 +0000</pubDate>"
            f"<description>{escape(item.description)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>t</title><link>https://example.com/</link><description>d</description>"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


def feed_source(url: str, name: str = "wire") -> dict[str, Any]:
    """A `sources:` entry for a feed whose first poll alerts on its (2025) entries too."""
    return {"name": name, "kind": "feed", "url": url, "backfill": "3650d"}


async def cycle(config: WatcherConfig, clock: Clock | None = None) -> DispatchReport:
    """What one `run --once` does, on a fresh Runtime (a restart) with the given clock."""
    async with Runtime(config, clock=clock or Clock()) as rt:
        for source in await prepare_sources(rt):
            await poll_with_deadline(rt, source)
        await produce_due_digests(rt)
        return await dispatch_all(rt)


async def dispatch(config: WatcherConfig, clock: Clock) -> DispatchReport:
    """Only the dispatcher (no poll), on a fresh Runtime."""
    async with Runtime(config, clock=clock) as rt:
        return await dispatch_all(rt)


async def all_rows(config: WatcherConfig, table: type[Row]) -> list[Row]:
    """Every row of `table`, by id."""
    async with open_database(config.database_url) as db, reading(db) as session:
        return list((await session.exec(select(table))).all())


async def save_routed(
    rt: Runtime, config: WatcherConfig, item: Item, signals: list[Signal], now: datetime
) -> None:
    """Store `item` with `signals` as one successful poll of its source, each signal
    routed to `config`'s subscribers, as the service's pipeline stores a poll."""
    await save_poll(
        rt.db,
        success=Success(item.source, "feed", now, None, Validators(), domain="t.invalid"),
        plans=[
            ItemPlan(
                item=item,
                signals=signals,
                recipients={s.type: route(config.subscribers, s, rt.channels) for s in signals},
            )
        ],
    )
