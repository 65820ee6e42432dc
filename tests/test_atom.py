"""The Atom feed of signals, served by the public endpoint and parsed back with feedparser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx
from typer.testing import CliRunner

from tests.clock import Clock
from tests.delivery import BAN, FLOOD, QUOTA, cycle, entries, feed_source, feed_xml
from tests.public_site import public_site
from tests.servers import FeedServer, Route
from watcher.cli import app
from watcher.config import WatcherConfig
from watcher.config.load import load_config
from watcher.public.tokens import FEED, UNSUBSCRIBE, Tokens
from watcher.store import optouts
from watcher.store.db import open_database

WriteConfig = Callable[..., Path]


def _public(tmp_path: Path, **more: Any) -> dict[str, Any]:
    key = tmp_path / "public.key"
    key.write_text("feed-signing-key\n", encoding="utf-8")
    return {"base_url": "https://watch.example", "secret_file": str(key), **more}


async def _stored(
    feed_server: FeedServer, write_config: WriteConfig, tmp_path: Path, **more: Any
) -> tuple[Path, WatcherConfig, Clock]:
    """Three items polled and dispatched for two subscribers: their signals are stored."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD, QUOTA)))
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))],
        public=_public(tmp_path, **more),
        subscribers=[
            {"email": "analyst@example.com", "signals": ["export_control"]},
            {"email": "all@example.com"},
        ],
    )
    config = load_config(path, environ={})
    clock = Clock()
    await cycle(config, clock)
    return path, config, clock


async def test_a_subscribers_feed_is_valid_atom_with_their_signals_and_evidence(
    feed_server: FeedServer, write_config: WriteConfig, tmp_path: Path
) -> None:
    """The signed feed URL gives valid Atom: only the signal types wanted, evidence in content."""
    path, config, clock = await _stored(feed_server, write_config, tmp_path)
    out = CliRunner().invoke(
        app, ["subscribers", "feed", "analyst@example.com", "--config", str(path)]
    )
    assert out.exit_code == 0, out.output
    link = urlsplit(out.output.strip())
    assert (link.scheme, link.netloc, link.path) == (
        "https",
        "watch.example",
        "/feeds/subscriber.atom",
    )

    tokens = Tokens.of(config.public)
    assert tokens is not None
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        reply = await client.get(f"{base}{link.path}?{link.query}")
        everything = await client.get(
            f"{base}/feeds/subscriber.atom",
            params={"token": tokens.sign("all@example.com", FEED, clock.now)},
        )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(reply.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.links[0].href == out.output.strip()  # rel=self: the reader's URL
    assert [e.title.split(" · ")[0] for e in parsed.entries] == ["Export control"]
    [entry] = parsed.entries
    assert entry.title.endswith(BAN[0])
    assert entry.id.startswith("tag:")
    content = entry.content[0].value
    evidence = content.split("<li>")[1].split("</li>")[0]
    assert "<strong>" in evidence  # the matched terms, marked
    assert evidence.replace("<strong>", "").replace("</strong>", "") in f"{BAN[0]}. {BAN[1]}"
    assert "tightening" in content

    all_parsed = feedparser.parse(everything.content)
    assert not all_parsed.bozo
    assert len(all_parsed.entries) >= 2
    assert entry.id in {e.id for e in all_parsed.entries}  # one signal, one ID in every feed


async def test_entry_ids_are_stable_across_requests_and_new_signals(
    feed_server: FeedServer, write_config: WriteConfig, tmp_path: Path
) -> None:
    """A filter feed read twice, with a new token and a new item between: old IDs unchanged."""
    _, config, clock = await _stored(
        feed_server, write_config, tmp_path, feeds={"easing": {"directions": ["easing"]}, "all": {}}
    )
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        first = feedparser.parse((await client.get(f"{base}/feeds/all.atom")).content)
        easing = feedparser.parse((await client.get(f"{base}/feeds/easing.atom")).content)
        missing = await client.get(f"{base}/feeds/nope.atom")
    assert not first.bozo
    assert {e.id for e in easing.entries} < {e.id for e in first.entries}
    assert all("easing" in e.title for e in easing.entries)
    assert missing.status_code == 404

    feed_server.routes["/f"] = Route(
        feed_xml(
            entries(
                BAN,
                FLOOD,
                QUOTA,
                ("China halts gallium exports", "China banned exports of gallium to all buyers."),
            )
        )
    )
    clock.advance(timedelta(hours=1))
    await cycle(config, clock)
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        later = feedparser.parse((await client.get(f"{base}/feeds/all.atom")).content)
    old = {e.id: e.title for e in first.entries}
    assert {e.id: e.title for e in later.entries if e.id in old} == old
    assert len(later.entries) == len(first.entries) + 1
    assert later.entries[0].title.endswith("China halts gallium exports")  # newest first


async def test_a_feed_token_is_no_unsubscribe_token_and_an_opted_out_feed_is_gone(
    feed_server: FeedServer, write_config: WriteConfig, tmp_path: Path
) -> None:
    """An unsubscribe token opens no feed (403); after opting out, the feed answers 404."""
    _, config, clock = await _stored(feed_server, write_config, tmp_path)
    tokens = Tokens.of(config.public)
    assert tokens is not None
    feed = tokens.sign("analyst@example.com", FEED, clock.now)
    wrong = tokens.sign("analyst@example.com", UNSUBSCRIBE, clock.now, "alerts")
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        refused = await client.get(f"{base}/feeds/subscriber.atom", params={"token": wrong})
        async with open_database(config.database_url) as db:
            await optouts.unsubscribe(
                db, "analyst@example.com", how="cli", list_name="", now=clock.now
            )
        gone = await client.get(f"{base}/feeds/subscriber.atom", params={"token": feed})
    assert refused.status_code == 403
    assert gone.status_code == 404
