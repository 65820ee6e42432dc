"""Parsing: worker deadlines, JSON Feed, encodings (GB2312/GBK/GB18030), bozo feeds."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import types
from datetime import UTC, datetime, timedelta
from importlib.machinery import ModuleSpec

import pytest

from tests import slowparse
from watcher.concurrency.pool import ParserPool, preload_modules
from watcher.domain.errors import ParseError
from watcher.sources.charset import decode_html
from watcher.sources.feed import parse_document

CHINESE = "中国暂停镝和铽出口，镕铸厂因配额延迟减产"  # 镕 is in GBK but not in GB2312


def _rss(title: str, declaration: str = "") -> str:
    return (
        f"<?xml version='1.0'{declaration}?><rss version='2.0'><channel><title>t</title>"
        f"<ttl>90</ttl><item><title>{title}</title><guid>g1</guid></item></channel></rss>"
    )


async def test_a_parse_over_the_deadline_is_killed_and_the_pool_recovers() -> None:
    """A hanging parse fails after the deadline; the next parse works in a fresh worker."""
    pool = ParserPool(workers=1, deadline=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(ParseError, match=r"longer than 0\.5s"):
            await pool.run("slow", "parsing", slowparse.sleep_then, 30, "never")
        assert time.monotonic() - started < 5
        assert await pool.run("ok", "parsing", slowparse.sleep_then, 0, "fine") == "fine"
        assert pool.restarts == 1
    finally:
        pool.close()


async def test_a_crashing_parser_is_a_parse_error_not_a_crash() -> None:
    """A worker that dies (a C parser's segfault) is a named ParseError; the pool goes on."""
    pool = ParserPool(workers=1, deadline=5)
    try:
        with pytest.raises(ParseError, match="crashed the parser process"):
            await pool.run("boom", "parsing", slowparse.crash)
        assert await pool.run("ok", "parsing", slowparse.sleep_then, 0, "fine") == "fine"
    finally:
        pool.close()


async def test_a_pool_that_has_had_its_share_is_replaced_and_nothing_hangs() -> None:
    """Recycling by call count: a backlog bigger than the share all completes, new workers.

    (`max_tasks_per_child` hangs here on CPython 3.11–3.13: python/cpython#115634.)
    """
    pool = ParserPool(workers=1, deadline=10, recycle_after=3)
    try:
        async with asyncio.timeout(60):
            pids = await asyncio.gather(
                *(pool.run(f"s{n}", "parsing", os.getpid) for n in range(10))
            )
        assert len(set(pids)) >= 3  # calls 1–3, 4–6, 7–9 and 10 went to four pools
        assert os.getpid() not in pids
        assert pool.restarts == 0  # recycling is not a failure
    finally:
        pool.close()


def test_the_forkserver_preloads_the_service_and_a_main_module_run_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Workers find their imports done: the service always, `python -m NAME`'s main by NAME."""
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    main.__spec__ = ModuleSpec("bench.worker", None)
    assert preload_modules()[:3] == ["__main__", "bench.worker", "watcher.cli"]
    main.__spec__ = ModuleSpec("watcher.__main__", None)  # `python -m watcher`: never re-run
    assert preload_modules()[:2] == ["__main__", "watcher.cli"]
    main.__spec__ = None  # a script run by its path (the `watcher` command)
    assert preload_modules()[:2] == ["__main__", "watcher.cli"]
    assert {"watcher.sources.feed", "watcher.service.analysis"} <= set(preload_modules())


def test_json_feed_items_are_read() -> None:
    """JSON Feed 1.1: ids, titles, HTML or text content, dates, relative links resolved."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Ministry notices",
        "home_page_url": "https://ministry.example/",
        "items": [
            {
                "id": 1,
                "url": "/notices/1",
                "title": "Export licences for gallium",
                "content_html": "<p>Licences are <b>required</b> from 1 December.</p>",
                "date_published": "2026-11-25T08:00:00+08:00",
            },
            {"id": "2", "content_text": "Quota list published."},
            {"title": "no id: skipped with a warning"},
        ],
    }
    parsed = parse_document(json.dumps(document).encode(), "ministry", "https://x.example/feed")
    first, second = parsed.items
    assert first.guid == "1"
    assert first.link == "https://ministry.example/notices/1"
    assert first.body == "Licences are required from 1 December."
    assert first.published == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    assert second.body == "Quota list published."
    assert parsed.warnings
    assert "items.2" in parsed.warnings[0]


def test_json_that_is_not_a_json_feed_is_a_named_error() -> None:
    """Plain JSON without a JSON Feed version is a ParseError saying what is missing."""
    with pytest.raises(ParseError, match="not a JSON Feed: version"):
        parse_document(b'{"items": []}', "api")
    with pytest.raises(ParseError, match="invalid JSON"):
        parse_document(b"{nope", "api", headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("declaration", "content_type"),
    [
        (" encoding='gb2312'", ""),  # declared GB2312, really GBK
        (" encoding='gbk'", ""),
        (" encoding='gb18030'", ""),
        ("", "application/rss+xml; charset=gb2312"),  # declared in HTTP only
        ("", ""),  # not declared at all
    ],
)
def test_chinese_feeds_decode_whatever_they_declare(declaration: str, content_type: str) -> None:
    """GBK bytes decode correctly labelled GB2312, GBK, GB18030, in HTTP, or not at all."""
    data = _rss(CHINESE, declaration).encode("gbk")
    headers = {"Content-Type": content_type} if content_type else {}
    parsed = parse_document(data, "cn", headers=headers)
    assert parsed.items[0].title == CHINESE
    assert parsed.min_interval == timedelta(minutes=90)


def test_html_pages_decode_declared_and_undeclared_encodings() -> None:
    """Meta charset gb2312 with GBK text, HTTP charset, BOM, undeclared GBK, plain cp1252."""
    page = f"<html><head><meta charset='gb2312'></head><body>{CHINESE}</body></html>"
    assert CHINESE in decode_html(page.encode("gbk"), "text/html")
    assert CHINESE in decode_html(CHINESE.encode("gb18030"), "text/html; charset=GBK")
    assert CHINESE in decode_html(b"\xef\xbb\xbf" + CHINESE.encode(), None)
    assert CHINESE in decode_html(CHINESE.encode("gbk") * 3, None)
    assert decode_html("Ministère des Mines".encode("cp1252"), None) == "Ministère des Mines"


def test_a_bozo_feed_with_entries_is_a_warning_not_a_failure() -> None:
    """An unescaped & makes the feed bozo, but its entries are still items."""
    data = (
        b"<rss version='2.0'><channel><item><title>Tom & Jerry mine</title></item></channel></rss>"
    )
    parsed = parse_document(data, "bozo")
    assert [i.title for i in parsed.items] == ["Tom & Jerry mine"]
    assert parsed.warnings
