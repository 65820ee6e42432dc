"""Feed entries seen before are not parsed again, and every poll still decides as before."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.servers import FeedServer, Route
from watcher.concurrency.threads import ThreadWorkers
from watcher.config import FeedSource, HttpConfig, WatcherConfig
from watcher.service.pipeline import poll_source
from watcher.service.rounds import prepare_sources
from watcher.service.runtime import Runtime
from watcher.sources import Fetcher, Validators, fetch_source
from watcher.sources.feed import parse_document
from watcher.sources.sections import find_sections, without
from watcher.store.entry_digests import load_seen
from watcher.store.retention import purge
from watcher.store.tables import ENTRY_DIGESTS

MakeConfig = Callable[..., WatcherConfig]
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SIGNAL = "China restricts exports of dysprosium; licences required."
URL = "https://w.example/feed"
XML = {"Content-Type": "application/rss+xml"}  # without one, feedparser's bozo bit is set


class Clock:
    """A settable clock for the runtime: the only thing these tests fake."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _item(guid: str, title: str, body: str = SIGNAL, link: str | None = None) -> str:
    link = link or f"https://w.example/{guid}"
    return (
        f"<item><guid>urn:{guid}</guid><link>{link}</link><title>{title}</title>"
        f"<description><![CDATA[<p>{body}</p> </item> ]]></description>"
        f"<pubDate>{T0:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
    )


def _rss(*items: str, built: str = "Mon, 07 Dec 2026 09:00:00 GMT", head: str = "") -> bytes:
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0' {head}><channel>"
        f"<title>x</title><lastBuildDate>{built}</lastBuildDate>{''.join(items)}"
        "<!-- <item> in a comment --></channel></rss>"
    ).encode()


def _seen(document: bytes) -> dict[str, tuple[str, str]]:
    parsed = parse_document(document, "wire", URL, XML, seen={})
    return {digest: (identity, link or "") for digest, identity, link, _ in parsed.seen()}


def test_entries_are_cut_whole_and_digested_with_their_context() -> None:
    """Each entry is its own byte range (CDATA and comments read as XML reads them); a new
    build date keeps the digests, another namespace declaration changes them all."""
    document = _rss(_item("a", "A"), _item("b", "B"))
    sections = find_sections(document, b"ctx")
    assert sections is not None
    assert [document[s:e] for s, e in sections.spans] == [
        _item("a", "A").encode(),
        _item("b", "B").encode(),
    ]
    rebuilt = find_sections(_rss(_item("a", "A"), _item("b", "B"), built="later"), b"ctx")
    assert rebuilt is not None
    assert rebuilt.digests == sections.digests
    declared = find_sections(_rss(_item("a", "A"), _item("b", "B"), head="xmlns:x='u'"), b"ctx")
    other_context = find_sections(document, b"other")
    for changed in (declared, other_context):
        assert changed is not None
        assert set(changed.digests).isdisjoint(sections.digests)
    cut = without(document, sections, {sections.digests[0]})
    assert cut == document.replace(_item("a", "A").encode(), b"")


@pytest.mark.parametrize(
    "document",
    [
        b"<rss><channel><item/><item><title>a</title></item></channel></rss>",
        b"<rss><channel><item><item>nested</item></item></channel></rss>",
        b"<!DOCTYPE rss [<!ENTITY e 'x'>]><rss><channel><item>&e;</item></channel></rss>",
        b"<rss><channel><item>unclosed</channel></rss>",
        b"<rss><channel><item>a</item></channel><channel><item>b</item></channel></rss>",
        b"<rss><channel><title>no entries</title></channel></rss>",
    ],
)
def test_documents_that_cannot_be_cut_are_read_whole(document: bytes) -> None:
    """Empty-element, nested or unclosed entries, a DOCTYPE, entries under several parents
    or none: no sections, so nothing is ever skipped."""
    assert find_sections(document, b"") is None


def test_a_feed_read_with_its_seen_entries_gives_only_the_other_items() -> None:
    """The items read are those of the new and the edited entries, exactly as a whole
    read gives them; the unchanged entries are named as skipped."""
    before = _rss(_item("a", "A"), _item("b", "B"), _item("c", "C"))
    after = _rss(_item("n", "N"), _item("a", "A"), _item("b", "B edited"), _item("c", "C"))
    seen = _seen(before)
    parsed = parse_document(after, "wire", URL, XML, seen=seen)
    whole = parse_document(after, "wire", URL, XML)
    assert parsed.items == [whole.items[0], whole.items[2]]
    assert [seen[d][0] for d in parsed.skipped] == ["guid:urn:a", "guid:urn:c"]
    assert len(parsed.digests) == 2
    assert not set(parsed.digests) & set(seen)


def test_an_entry_sharing_an_identity_with_a_skipped_one_makes_the_whole_feed_read() -> None:
    """A second entry under a seen guid: which one counts depends on order, so all are read."""
    before = _rss(_item("a", "A"))
    after = _rss(_item("a", "A"), _item("a", "A again", link="https://w.example/other"))
    parsed = parse_document(after, "wire", URL, XML, seen=_seen(before))
    assert parsed.skipped == ()
    assert [i.title for i in parsed.items] == ["A", "A again"]


def _offering(
    entries: dict[str, tuple[str, str]],
) -> Callable[[], Awaitable[dict[str, tuple[str, str]]]]:
    async def offer() -> dict[str, tuple[str, str]]:
        return entries

    return offer


async def test_fetching_a_feed_skips_what_its_last_poll_read(feed_server: FeedServer) -> None:
    """Over HTTP, with the recorded entries offered: only the new entry is parsed."""
    feed_server.routes["/feed"] = Route(_rss(_item("a", "A"), _item("b", "B")))
    url = feed_server.url("/feed")
    source = FeedSource(name="wire", kind="feed", url=url)
    fetcher = Fetcher(HttpConfig(), "SupplyWatcher-test/1")
    pool = ThreadWorkers(1, deadline=5)
    try:
        first = await fetch_source(source, Validators(), fetcher, pool, _offering({}))
        offer = {d: (i, link or "") for d, i, link, _ in first.entries}
        newer = _rss(_item("n", "N"), _item("a", "A"), _item("b", "B"))
        feed_server.routes["/feed"] = Route(newer)
        second = await fetch_source(source, Validators(), fetcher, pool, _offering(offer))
    finally:
        pool.close()
        await fetcher.aclose()
    assert [i.identity for i in first.items] == ["guid:urn:a", "guid:urn:b"]
    assert [i.identity for i in second.items] == ["guid:urn:n"]
    assert sorted(second.skipped) == sorted(offer)


def _source(feed_server: FeedServer, **extra: Any) -> dict[str, Any]:
    return {"name": "wire", "kind": "feed", "url": feed_server.url("/feed"), "jitter": 0, **extra}


async def test_polls_record_their_entries_and_still_see_edits_and_purges(
    feed_server: FeedServer, make_config: MakeConfig, database_url: str
) -> None:
    """Unchanged entries are skipped and counted as fetched; an edited one is a revision;
    an item purged from the store makes its entry new again, as without digests."""
    quiet = _item("b", "B", body="Prices were steady.")  # no signal: retention purges it
    feed_server.routes["/feed"] = Route(_rss(_item("a", "A"), quiet))
    config = make_config(sources=[_source(feed_server)], database={"url": database_url})
    async with Runtime(config, clock=Clock()) as rt:
        await prepare_sources(rt)
        source = config.sources[0]
        first = await poll_source(rt, source)
        assert (first.fetched, first.new) == (2, 2)
        assert len((await load_seen(rt.db, "wire")).valid) == 2

        feed_server.routes["/feed"] = Route(
            _rss(_item("n", "N"), _item("a", "A edited"), quiet, built="later")
        )
        second = await poll_source(rt, source)
        assert (second.fetched, second.new, second.revised) == (3, 1, 1)
        seen = await load_seen(rt.db, "wire")
        assert sorted(e.identity for e in seen.valid.values()) == [
            "guid:urn:a",
            "guid:urn:b",
            "guid:urn:n",
        ]
        assert len(seen.recorded) == 3  # the digest of "A" as it was is gone

        purged = await purge(
            rt.db, now=T0 + timedelta(days=2), items_after=timedelta(days=1),
            deliveries_after=timedelta(days=1),
        )  # fmt: skip
        assert purged.items == 1
        third = await poll_source(rt, source)
        assert (third.fetched, third.new, third.revised) == (3, 1, 0)

        feed_server.routes["/feed"] = Route(_rss(_item("n", "N")))
        fourth = await poll_source(rt, source)
        assert (fourth.fetched, fourth.new, fourth.revised) == (1, 0, 0)
        async with rt.db.engine.connect() as connection:
            rows = (await connection.execute(select(ENTRY_DIGESTS.c.identity))).all()
        assert [r.identity for r in rows] == ["guid:urn:n"]


async def test_full_text_sources_record_nothing(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """A source whose items get their article's text is parsed whole at every poll."""
    feed_server.routes["/feed"] = Route(_rss(_item("a", "A")))
    feed_server.routes["/a"] = Route(b"<html><body><p>" + SIGNAL.encode() + b"</p></body></html>")
    config = make_config(sources=[_source(feed_server, full_text=True)])
    async with Runtime(config, clock=Clock()) as rt:
        await prepare_sources(rt)
        await poll_source(rt, config.sources[0])
        assert (await load_seen(rt.db, "wire")).recorded == frozenset()
