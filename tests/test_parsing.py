"""Parsing: JSON Feed, encodings (GB2312/GBK/GB18030), bozo feeds, very long feeds."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.collector import cyclic_garbage_of
from tests.servers import FeedServer, Route
from watcher.concurrency.pool import WorkerPool
from watcher.config import FeedSource, HttpConfig
from watcher.domain.errors import ParseError
from watcher.sources import fetch_source, trim
from watcher.sources.charset import decode_html
from watcher.sources.feed import parse_document
from watcher.sources.http import Fetcher
from watcher.sources.result import Validators
from watcher.sources.trim import MAX_ITEMS, trim_feed

CHINESE = "中国暂停镝和铽出口，镕铸厂因配额延迟减产"  # 镕 is in GBK but not in GB2312


def _rss(title: str, declaration: str = "") -> str:
    return (
        f"<?xml version='1.0'{declaration}?><rss version='2.0'><channel><title>t</title>"
        f"<ttl>90</ttl><item><title>{title}</title><guid>g1</guid></item></channel></rss>"
    )


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


def _long_rss(count: int, doctype: str = "") -> bytes:
    """A valid RSS 2.0 feed of `count` items (about 300 bytes each), item 0 first."""
    items = "".join(
        f"<item><title>Notice {n}: gallium export quota revised</title>"
        f"<link>https://ministry.example/n/{n}</link><guid isPermaLink='false'>n{n}</guid>"
        f"<pubDate>Tue, 24 Nov 2026 08:{n % 60:02d}:00 GMT</pubDate>"
        f"<description>Notice {n} on licences for rare earth exports.</description></item>"
        for n in range(count)
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?>{doctype}<rss version='2.0'><channel>"
        f"<title>Ministry</title><link>https://ministry.example/</link><ttl>60</ttl>"
        f"{items}</channel></rss>"
    ).encode()


def test_a_long_feed_is_read_at_both_ends_with_a_warning() -> None:
    """Past MAX_ITEMS entries, the first and last halves are read and the warning counts them."""
    parsed = parse_document(_long_rss(MAX_ITEMS + 10), "ministry")
    guids = [item.guid for item in parsed.items]
    half = MAX_ITEMS // 2
    assert guids == [f"n{n}" for n in [*range(half), *range(half + 10, MAX_ITEMS + 10)]]
    assert parsed.warnings == [
        f"the feed lists {MAX_ITEMS + 10} entries; {MAX_ITEMS} were taken, the first {half}"
        f" and the last {half} (at most {MAX_ITEMS} per poll)"
    ]
    assert parsed.min_interval == timedelta(minutes=60)  # the channel is intact


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (_long_rss(MAX_ITEMS), "not more than MAX_ITEMS entries"),
        (_long_rss(MAX_ITEMS + 1, "<!DOCTYPE rss>"), "a DOCTYPE: left to feedparser"),
        (_long_rss(MAX_ITEMS + 1).replace(b"</channel>", b""), "not well-formed"),
        (_long_rss(MAX_ITEMS + 1).replace(b"utf-8", b"gbk"), "an encoding expat cannot read"),
    ],
)
def test_a_feed_that_need_not_or_cannot_be_cut_is_left_whole(document: bytes, why: str) -> None:
    """No cut, and no warning, when the feed is short enough or cannot be cut safely."""
    assert trim_feed(document) == (document, None), why


@pytest.mark.parametrize(
    "document",
    [
        _long_rss(MAX_ITEMS + 1),
        _long_rss(MAX_ITEMS + 1, "<!DOCTYPE rss>"),
        _long_rss(MAX_ITEMS + 1).replace(b"</channel>", b""),
    ],
    ids=["cut", "doctype", "unclosed"],
)
def test_trimming_a_feed_leaves_nothing_for_the_cyclic_collector(document: bytes) -> None:
    """Cut or not, the trimming parser and its handlers are freed when it is done, not
    left in a reference cycle for the collector, which the service runs seldom.

    Only the trimming's own kinds of object are looked for (`tests.collector`).
    """
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            trim_feed(document)
        assert cyclic_garbage_of(trim) == []
    finally:
        gc.enable()


def test_a_long_json_feed_is_read_at_both_ends_with_a_warning() -> None:
    """JSON Feed items past MAX_ITEMS: the same halves and the same warning."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": n, "content_text": f"notice {n}"} for n in range(MAX_ITEMS + 2)],
    }
    parsed = parse_document(json.dumps(document).encode(), "api")
    assert len(parsed.items) == MAX_ITEMS
    assert (parsed.items[0].guid, parsed.items[-1].guid) == ("0", str(MAX_ITEMS + 1))
    assert parsed.warnings[0].startswith(f"the feed lists {MAX_ITEMS + 2} entries; {MAX_ITEMS}")


async def test_a_20000_item_feed_is_read_within_the_parse_deadline(
    feed_server: FeedServer,
) -> None:
    """A valid 20,000-item RSS feed (about 6 MB) is fetched and parsed within the 20 s deadline.

    The worker's deadline is the bound (a slower parse fails with TaskTimeout); about 2 s
    on an idle 2-core machine, 12 s beside a CPU burner and a full test suite.
    """
    document = _long_rss(20_000)
    assert len(document) > 5_000_000
    feed_server.routes["/all"] = Route(document)
    source = FeedSource(name="ministry", kind="feed", url=feed_server.url("/all"))
    fetcher = Fetcher(HttpConfig(), "SupplyWatcher-test/1")
    pool = WorkerPool(1, deadline=20)  # the default polling.parse_timeout
    try:
        await pool.start()
        result = await fetch_source(source, Validators(), fetcher, pool)
    finally:
        pool.close()
        await fetcher.aclose()
    assert len(result.items) == MAX_ITEMS
    assert result.items[0].guid == "n0"
    assert result.items[-1].guid == "n19999"
    assert result.warnings[0].startswith(f"the feed lists 20000 entries; {MAX_ITEMS} were taken")
    assert pool.restarts == 0  # no worker was killed for overrunning the deadline


def test_the_body_is_the_longest_text_not_the_longest_markup() -> None:
    """With feedparser's sanitizer off, a content element padded with a style sheet and a
    script is long markup but short text: the summary carrying the report is the body,
    and neither the style nor the script reaches it."""
    style = "<style>" + ".x { color: red; } " * 400 + "</style>"
    script = "<script>var tracking = '" + "a" * 2000 + "';</script>"
    report = (
        "Lynas halted processing at Mount Weld after flooding; shipments of "
        "concentrate are suspended until further notice."
    )
    document = (
        "<?xml version='1.0'?><rss version='2.0' "
        "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel><title>t</title>"
        "<item><title>Mount Weld halted</title><guid>g1</guid>"
        f"<description><![CDATA[<p>{report}</p>]]></description>"
        f"<content:encoded><![CDATA[{style}{script}<p>Read more.</p>]]></content:encoded>"
        "</item></channel></rss>"
    )
    (item,) = parse_document(document.encode(), "wire", "https://x.example/feed").items
    assert item.body == report
