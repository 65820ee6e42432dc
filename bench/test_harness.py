"""The harness's own checks: `.venv/bin/pytest bench` (not part of `make test`).

The farm and the sink are what every figure rests on, so they are pinned here against
real clients: httpx for HTTP, aiosmtplib for SMTP, feedparser and the default rules
for the generated text.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import feedparser
import httpx
import pytest

from bench.configs import bench_config
from bench.farm import FeedFarm
from bench.feeds import FarmSpec, documents_digest, initial_documents
from bench.sink import SmtpSink
from bench.textgen import make_item
from watcher.classify.engine import Classifier

SPEC = FarmSpec(n=5, m=20, seed=8, epoch=int(time.time()), latency=0.0)


@pytest.fixture
async def farm() -> AsyncIterator[FeedFarm]:
    """A small farm on 127.0.0.1 without latency."""
    running = await FeedFarm(SPEC).start()
    yield running
    await running.stop()


async def test_feeds_parse_with_m_items_and_recent_dates(farm: FeedFarm) -> None:
    """Every feed is RSS that feedparser reads as M items, newest first, none older than M min."""
    async with httpx.AsyncClient() as client:
        body = (await client.get(farm.url(3))).content
    parsed = feedparser.parse(io.BytesIO(body))
    assert not parsed.bozo
    assert len(parsed.entries) == SPEC.m
    stamps = [time.mktime(e.published_parsed) for e in parsed.entries]
    assert stamps == sorted(stamps, reverse=True)
    assert all(len(e.summary.split()) >= 60 for e in parsed.entries)


async def test_conditional_gets_answer_304_and_count(farm: FeedFarm) -> None:
    """ETag and Last-Modified each give a 304; the counters see requests, 200s, 304s, bytes."""
    async with httpx.AsyncClient() as client:
        first = await client.get(farm.url(0))
        by_etag = await client.get(farm.url(0), headers={"If-None-Match": first.headers["ETag"]})
        by_date = await client.get(
            farm.url(0), headers={"If-Modified-Since": first.headers["Last-Modified"]}
        )
    assert (first.status_code, by_etag.status_code, by_date.status_code) == (200, 304, 304)
    counters = farm.counters
    assert (counters.requests, counters.ok, counters.not_modified) == (3, 1, 2)
    assert counters.bytes_out > len(first.content)
    assert counters.connections == 1  # keep-alive: one connection for the three requests


async def test_publish_puts_k_signal_items_at_the_head(farm: FeedFarm) -> None:
    """After publish(2) a feed's ETag changes and its two newest items are new signal items."""
    async with httpx.AsyncClient() as client:
        before = await client.get(farm.url(1))
        farm.publish(2)
        after = await client.get(farm.url(1), headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    entries = feedparser.parse(io.BytesIO(after.content)).entries
    assert len(entries) == SPEC.m
    assert [e.id for e in entries[:2]] == ["farm-8-1-21", "farm-8-1-20"]


async def test_control_endpoints_reset_and_churn(farm: FeedFarm) -> None:
    """`/_farm/*` calls are not counted; churn makes every feed GET a 200 with a new item."""
    async with httpx.AsyncClient() as client:
        await client.post(f"http://127.0.0.1:{farm.port}/_farm/churn?k=1")
        first = await client.get(farm.url(2))
        second = await client.get(farm.url(2), headers={"If-None-Match": first.headers["ETag"]})
        stats = (await client.get(f"http://127.0.0.1:{farm.port}/_farm/stats")).json()
    assert second.status_code == 200
    assert stats["counters"]["requests"] == 2
    assert stats["digest"] == farm.digest


def test_documents_are_deterministic() -> None:
    """The same spec builds byte-identical documents (the parse floor relies on it)."""
    assert documents_digest(initial_documents(SPEC)) == documents_digest(initial_documents(SPEC))


def test_signal_items_fire_their_rule_and_quiet_items_do_not(tmp_path: Path) -> None:
    """Generated signal items fire (at least) their rule; market colour fires none."""
    classifier = Classifier.from_config(bench_config(tmp_path, []))
    for index in range(300):
        item = make_item(8, 7, index)
        types = {s.type for s in classifier.classify(item.title, item.body) if not s.speculative}
        if item.signal:
            assert item.signal in types, item
        else:
            assert not types, item


def test_sink_counts_messages_connections_and_duplicates() -> None:
    """Two messages with one Message-ID over one connection: 2 messages, 1 duplicate."""

    async def send() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port) as client:
            for _ in range(2):
                message = EmailMessage()
                message["From"], message["To"] = "a@example.com", "b@example.com"
                message["Message-ID"] = "<same@example.com>"
                message.set_content("hello")
                await client.send_message(message)

    with SmtpSink() as sink:
        asyncio.run(send())
        counts = sink.snapshot()
    assert (counts.messages, counts.connections, counts.duplicate_message_ids) == (2, 1, 1)
