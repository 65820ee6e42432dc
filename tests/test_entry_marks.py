"""Feed entries whose items a poll stored are not parsed again, and every poll still
decides as before (new, revised, purged, churned guids, full text)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.collector import cyclic_garbage_of
from tests.servers import FeedServer, Route
from watcher.concurrency.threads import ThreadWorkers
from watcher.config import FeedSource, HttpConfig, WatcherConfig
from watcher.service.pipeline import poll_source
from watcher.service.rounds import prepare_sources
from watcher.service.runtime import Runtime
from watcher.sources import Fetcher, Validators, entry_marks, fetch_source, trim
from watcher.sources import sections as cutting
from watcher.sources.feed import Seen, parse_document
from watcher.sources.sections import find_sections, without
from watcher.store.retention import purge
from watcher.store.source_state import load_state
from watcher.store.tables import SOURCES

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


def _seen(document: bytes) -> Seen:
    """What a poll that stored every item of `document` offers the next parse."""
    parsed = parse_document(document, "wire", URL, XML, seen={})
    stored = {d: (i.identity, i.link) for d, i in zip(parsed.digests, parsed.items, strict=True)}
    marks = entry_marks.next_marks((), (), stored, T0)
    return entry_marks.offered(marks, T0, timedelta(days=180))


def test_marks_pack_and_unpack_and_expire_before_retention() -> None:
    """34 bytes a mark, read back as written; a mark is offered from its day until two
    days before the retention window ends, and never from a day ahead of the clock."""
    mark = entry_marks.EntryMark(b"d" * 16, entry_marks.day_of(T0), b"i" * 8, b"l" * 8)
    blob = entry_marks.pack([mark, mark])
    assert len(blob) == 68
    assert entry_marks.unpack(blob) == (mark, mark)
    assert entry_marks.unpack(blob[:-1]) == ()
    assert entry_marks.unpack(None) == ()
    window = timedelta(days=10)
    for days, offered in ((0, True), (7, True), (8, False), (-1, False)):
        now = T0 + timedelta(days=days)
        assert bool(entry_marks.offered([mark], now, window)) is offered, days


def test_next_marks_keep_the_skipped_as_they_were_and_mark_the_stored() -> None:
    """A skipped entry keeps its mark and day; an entry stored now gets today's; the marks
    of entries gone from the document are dropped."""
    old = entry_marks.EntryMark(b"a" * 16, 1, b"i" * 8, b"l" * 8)
    gone = entry_marks.EntryMark(b"g" * 16, 1, b"i" * 8, b"l" * 8)
    marks = entry_marks.next_marks([old, gone], [b"a" * 16], {b"n" * 16: ("id", None)}, T0)
    assert marks == (
        old,
        entry_marks.EntryMark(
            b"n" * 16, entry_marks.day_of(T0), entry_marks.short_hash("id"), entry_marks.NO_HASH
        ),
    )


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
        b'<?xml version="1.0" encoding="bogus"?><rss><channel><item>a</item></channel></rss>',
    ],
)
def test_documents_that_cannot_be_cut_are_read_whole(document: bytes) -> None:
    """Empty-element, nested or unclosed entries, a DOCTYPE, entries under several parents
    or none, an encoding expat does not know: no sections, so nothing is ever skipped."""
    assert find_sections(document, b"") is None


@pytest.mark.parametrize(
    "document",
    [
        _rss(_item("a", "A"), _item("b", "B")),
        b"<rss><channel><item><item>nested</item></item></channel></rss>",
        b"<rss><channel><item>unclosed</channel></rss>",
    ],
)
def test_cutting_a_document_leaves_nothing_for_the_cyclic_collector(document: bytes) -> None:
    """Cut or not, a document's parser and handlers are freed when the cut is over, not
    left in a cycle for the collector, which the service runs seldom (only the cut's own
    kinds of object are looked for: `tests.collector`)."""
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            find_sections(document, b"ctx")
        assert cyclic_garbage_of(cutting, trim) == []
    finally:
        gc.enable()


def test_a_feed_read_with_its_marks_gives_only_the_other_items() -> None:
    """The items read are those of the new and the edited entries, exactly as a whole
    read gives them; the unchanged entries are named as skipped."""
    before = _rss(_item("a", "A"), _item("b", "B"), _item("c", "C"))
    after = _rss(_item("n", "N"), _item("a", "A"), _item("b", "B edited"), _item("c", "C"))
    seen = _seen(before)
    parsed = parse_document(after, "wire", URL, XML, seen=seen)
    whole = parse_document(after, "wire", URL, XML)
    assert parsed.items == [whole.items[0], whole.items[2]]
    identities = [seen[d][0] for d in parsed.skipped]
    assert identities == [entry_marks.short_hash(f"guid:urn:{g}") for g in "ac"]
    assert len(parsed.digests) == 2
    assert not set(parsed.digests) & set(seen)


@pytest.mark.parametrize(
    "second",
    [
        _item("a", "A again", link="https://w.example/other"),  # the same guid
        _item("z", "Z", link="https://w.example/a"),  # the same link
    ],
)
def test_an_entry_sharing_an_identity_or_link_with_a_skipped_one_makes_the_whole_feed_read(
    second: str,
) -> None:
    """Which entry counts, or whether a link tells a churned guid, depends on all of
    them: the whole document is read, and its entries still reported."""
    before = _rss(_item("a", "A"))
    after = _rss(_item("a", "A"), second)
    parsed = parse_document(after, "wire", URL, XML, seen=_seen(before))
    assert parsed.skipped == ()
    assert len(parsed.items) == 2
    assert len(parsed.digests) == 2


async def test_fetching_a_feed_skips_the_marked_entries(feed_server: FeedServer) -> None:
    """Over HTTP, with the marks offered: only the new entry is parsed."""
    feed_server.routes["/feed"] = Route(_rss(_item("a", "A"), _item("b", "B")))
    url = feed_server.url("/feed")
    source = FeedSource(name="wire", kind="feed", url=url)
    fetcher = Fetcher(HttpConfig(), "SupplyWatcher-test/1")
    pool = ThreadWorkers(1, deadline=5)
    try:
        first = await fetch_source(source, Validators(), fetcher, pool, dict)
        stored = {d: (i.identity, i.link) for d, i in zip(first.digests, first.items, strict=True)}
        offer = entry_marks.offered(
            entry_marks.next_marks((), (), stored, T0), T0, timedelta(days=30)
        )
        feed_server.routes["/feed"] = Route(_rss(_item("n", "N"), _item("a", "A"), _item("b", "B")))
        second = await fetch_source(source, Validators(), fetcher, pool, lambda: offer)
        whole = await fetch_source(source, Validators(), fetcher, pool)
    finally:
        pool.close()
        await fetcher.aclose()
    assert [i.identity for i in first.items] == ["guid:urn:a", "guid:urn:b"]
    assert [i.identity for i in second.items] == ["guid:urn:n"]
    assert sorted(second.skipped) == sorted(offer)
    assert len(whole.items) == 3
    assert (whole.digests, whole.skipped) == ((), ())


def _source(feed_server: FeedServer, **extra: Any) -> dict[str, Any]:
    return {"name": "wire", "kind": "feed", "url": feed_server.url("/feed"), "jitter": 0, **extra}


async def _marks(rt: Runtime) -> tuple[entry_marks.EntryMark, ...]:
    return entry_marks.unpack((await load_state(rt.db, "wire")).entry_marks)


async def test_polls_mark_their_entries_and_still_see_edits_and_purges(
    feed_server: FeedServer, make_config: MakeConfig, database_url: str
) -> None:
    """Unchanged entries are skipped and counted as fetched; an edited one is a revision;
    once its mark is as old as the retention window allows, an entry is read again, so
    an item purged from the store is new again, as without marks."""
    quiet = _item("b", "B", body="Prices were steady.")  # no signal: retention purges it
    feed_server.routes["/feed"] = Route(_rss(_item("a", "A"), quiet))
    config = make_config(
        sources=[_source(feed_server)],
        database={"url": database_url},
        retention={"items": "3d"},
    )
    clock = Clock()
    async with Runtime(config, clock=clock) as rt:
        await prepare_sources(rt)
        source = config.sources[0]
        first = await poll_source(rt, source)
        assert (first.fetched, first.new) == (2, 2)
        assert len(await _marks(rt)) == 2

        feed_server.routes["/feed"] = Route(
            _rss(_item("n", "N"), _item("a", "A edited"), quiet, built="later")
        )
        second = await poll_source(rt, source)
        assert (second.fetched, second.new, second.revised) == (3, 1, 1)
        assert len(await _marks(rt)) == 3  # "A" as it was is gone, "A edited" marked

        clock.now = T0 + timedelta(days=2)
        purged = await purge(
            rt.db, now=clock.now, items_after=timedelta(days=1),
            deliveries_after=timedelta(days=1),
        )  # fmt: skip
        assert purged.items == 1
        third = await poll_source(rt, source)
        assert (third.fetched, third.new, third.revised) == (3, 1, 0)
        # only the entry stored again is marked: an entry read and found unchanged is not
        assert len(await _marks(rt)) == 1

        feed_server.routes["/feed"] = Route(_rss(_item("n", "N")))
        fourth = await poll_source(rt, source)
        assert (fourth.fetched, fourth.new, fourth.revised) == (1, 0, 0)
        assert await _marks(rt) == ()


async def _rounds(
    feed_server: FeedServer, make_config: MakeConfig, database: Path, *, whole: bool
) -> tuple[list[tuple[int, int, int, int, int]], int]:
    """Polls of one source over three documents, its marks erased before each when
    `whole`; each poll's (fetched, skipped, new, revised, queued), and the marks left."""
    documents = [
        _rss(_item("a", "A"), _item("b", "B")),
        _rss(_item("n", "N"), _item("a", "A"), _item("b", "B")),
        _rss(_item("m", "M"), _item("n", "N"), _item("a", "A2"), _item("b", "B")),
    ]
    config = make_config(
        sources=[_source(feed_server)], database={"url": f"sqlite+aiosqlite:///{database}"}
    )
    reports = []
    async with Runtime(config, clock=Clock()) as rt:
        await prepare_sources(rt)
        for document in documents:
            feed_server.routes["/feed"] = Route(document)
            if whole:
                async with rt.db.engine.begin() as connection:
                    await connection.execute(SOURCES.update().values(entry_marks=None))
            before = len(await _marks(rt))
            r = await poll_source(rt, config.sources[0])
            reports.append((r.fetched, before, r.new, r.revised, r.queued))
        return reports, len(await _marks(rt))


async def test_a_skipping_poll_stores_and_alerts_what_a_whole_read_does(
    feed_server: FeedServer, make_config: MakeConfig, tmp_path: Path
) -> None:
    """The same documents, parsed with the marks and parsed whole: the same items,
    revisions and alerts at every poll."""
    marked, left = await _rounds(feed_server, make_config, tmp_path / "m.db", whole=False)
    whole, _ = await _rounds(feed_server, make_config, tmp_path / "w.db", whole=True)
    assert [r[:1] + r[2:] for r in marked] == [r[:1] + r[2:] for r in whole]
    assert [r[1] for r in marked] == [0, 2, 3]  # the marks each poll found
    assert [r[2:] for r in marked] == [(2, 0, 2), (1, 0, 1), (1, 1, 1)]
    assert left == 4


async def test_full_text_sources_mark_nothing(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """A source whose items get their article's text is parsed whole at every poll."""
    feed_server.routes["/feed"] = Route(_rss(_item("a", "A")))
    feed_server.routes["/a"] = Route(b"<html><body><p>" + SIGNAL.encode() + b"</p></body></html>")
    config = make_config(sources=[_source(feed_server, full_text=True)])
    async with Runtime(config, clock=Clock()) as rt:
        await prepare_sources(rt)
        await poll_source(rt, config.sources[0])
        assert await _marks(rt) == ()
