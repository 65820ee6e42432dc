"""The spine end to end: real HTTP feed server, real SMTP server, SQLite in tmp_path."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

from sqlmodel import select

from tests.conftest import DATA, ROOT
from tests.orm import reading
from tests.rows import ItemRow, SourceRow
from tests.servers import FeedServer, Route, SmtpSink
from watcher.config import WatcherConfig
from watcher.notify.channels.mail.presentation import SUBJECT_CHARS
from watcher.service.rounds import one_round, run_once
from watcher.service.runtime import PARSE_THREADS, STORING_SPARE, Runtime

SAMPLE_FEED = (ROOT / "seeds" / "sample-feed.xml").read_bytes()
MakeConfig = Callable[..., WatcherConfig]
OLD_OK = {"backfill": "3650d"}  # the sample feed is dated 2025; let its first poll alert


def _smtp(sink: SmtpSink) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": sink.port, "tls": "none", "timeout": "5s"}


async def test_feed_items_become_exactly_the_expected_emails(
    feed_server: FeedServer, smtp_sink: SmtpSink, make_config: MakeConfig
) -> None:
    """A feed's signal-bearing items reach the SMTP server once each; a re-poll sends none."""
    feed_server.routes["/feed.xml"] = Route(SAMPLE_FEED)
    config = make_config(
        sources=[{"name": "sample", "kind": "feed", "url": feed_server.url("/feed.xml"), **OLD_OK}],
        smtp=_smtp(smtp_sink),
    )
    assert await run_once(config) == 0
    subjects = sorted(str(m["Subject"]) for m in smtp_sink.messages)
    assert len(subjects) == 3, subjects
    assert sum("Export control" in s for s in subjects) == 2
    assert sum("Ore supply disruption" in s for s in subjects) == 1
    assert all(m["To"].addresses[0].addr_spec == "analyst@example.com" for m in smtp_sink.messages)

    assert await run_once(config) == 0
    assert len(smtp_sink.messages) == 3


QUIET_FEED = (
    b"<rss version='2.0'><channel><title>Quiet</title><item><title>Copper prices steady</title>"
    b"<guid>q1</guid><description>Prices held in thin trade.</description></item>"
    b"</channel></rss>"
)


async def test_run_once_mails_alerts_while_slower_polls_still_run(
    feed_server: FeedServer, smtp_sink: SmtpSink, make_config: MakeConfig
) -> None:
    """An alert goes out once its poll has queued it, not after the round's slowest poll.

    The quiet feed answers only after the sink accepted a message (or after 20 s): the
    alerts of the sample feed must reach the sink while that poll is still waiting.
    """
    slow = Route(QUIET_FEED, after=smtp_sink.handler.accepted, after_timeout=20)
    feed_server.routes["/feed.xml"] = Route(SAMPLE_FEED)
    feed_server.routes["/quiet.xml"] = slow
    quiet = {"name": "quiet", "kind": "feed", "url": feed_server.url("/quiet.xml")}
    config = make_config(
        sources=[
            {"name": "sample", "kind": "feed", "url": feed_server.url("/feed.xml"), **OLD_OK},
            quiet | {"timeout": "1m"},
        ],
        smtp=_smtp(smtp_sink),
    )
    assert await run_once(config) == 0
    assert slow.released is True  # the quiet poll was answered because mail had gone out
    assert len(smtp_sink.messages) == 3  # and every alert went out once, early or late


async def test_a_changed_feed_mails_only_the_new_item(
    feed_server: FeedServer, smtp_sink: SmtpSink, make_config: MakeConfig
) -> None:
    """After new entries appear, the next poll mails just those."""
    feed_server.routes["/feed.xml"] = Route(SAMPLE_FEED)
    config = make_config(
        sources=[{"name": "sample", "kind": "feed", "url": feed_server.url("/feed.xml"), **OLD_OK}],
        smtp=_smtp(smtp_sink),
    )
    await run_once(config)
    before = len(smtp_sink.messages)
    extra = b"""<item><title>Lynas halts concentrate output at Mount Weld after flooding</title>
<link>https://example.com/news/lynas-flood</link><guid>new-1</guid>
<description>Flooding at the Mount Weld mine halted rare earth concentrate output.</description>
</item></channel>"""
    feed_server.routes["/feed.xml"] = Route(SAMPLE_FEED.replace(b"</channel>", extra))
    assert await run_once(config) == 0
    new = smtp_sink.messages[before:]
    assert len(new) == 1
    assert "Ore supply disruption" in str(new[0]["Subject"])
    assert "Mount Weld" in str(new[0]["Subject"])


async def test_items_missing_fields_are_stored_and_handled(
    feed_server: FeedServer, make_config: MakeConfig, tmp_path: Path
) -> None:
    """No guid, no link, no date, HTML and newlines in a title: stored, classified, no crash."""
    feed_server.routes["/tricky.xml"] = Route((DATA / "feeds" / "tricky.xml").read_bytes())
    config = make_config(
        sources=[{"name": "tricky", "kind": "feed", "url": feed_server.url("/tricky.xml")}]
    )
    assert await run_once(config) == 0
    async with Runtime(config) as rt, reading(rt.db) as session:
        items = (await session.exec(select(ItemRow).order_by(ItemRow.id))).all()
    assert len(items) == 3
    by_kind = {item.identity.split(":", 1)[0]: item for item in items}
    assert by_kind["url"].identity == "url:https://tricky.example/news/border?id=7"
    assert set(by_kind) == {"url", "hash"}
    titles = [item.title for item in items]
    assert "HTML in the title: recyclers short of NdFeB scrap" in titles
    assert all("\n" not in t and "<" not in t for t in titles)
    assert all("alert(1)" not in item.body for item in items)
    assert all(item.published is None for item in items)
    mails = sorted((tmp_path / "data" / "maildrop").glob("*.eml"))
    assert len(mails) == 2  # the border closure and the scrap shortage; the price wrap is silent


async def test_mail_drop_writes_parseable_multipart_messages(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """Without an SMTP host, alerts are .eml files a mail client opens: text + HTML."""
    config = make_config(
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"}
        ]
    )
    assert await run_once(config) == 0
    files = sorted((tmp_path / "data" / "maildrop").glob("*.eml"))
    assert files
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message.get_content_type() == "multipart/alternative"
        assert message["Message-ID"]
        assert message["Date"]
        assert message["From"]
        assert str(message["Subject"]).startswith(str(message["Subject"]).split(" · ")[0])
        assert len(str(message["Subject"])) <= SUBJECT_CHARS  # headline first, short
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None
        assert html is not None
        assert "Why it fired" in text.get_content()
        assert "<mark" in html.get_content()
    again = await run_once(config)
    assert again == 0
    assert sorted((tmp_path / "data" / "maildrop").glob("*.eml")) == files


async def test_one_failing_source_does_not_stop_the_others(
    feed_server: FeedServer, smtp_sink: SmtpSink, make_config: MakeConfig
) -> None:
    """A 500 and a refused connection are counted on their rows; the good feed still mails."""
    feed_server.routes["/feed.xml"] = Route(SAMPLE_FEED)
    feed_server.routes["/broken.xml"] = Route(b"oops", status=500)
    config = make_config(
        sources=[
            {"name": "broken", "kind": "feed", "url": feed_server.url("/broken.xml")},
            {"name": "offline", "kind": "feed", "url": "http://127.0.0.1:9/feed.xml"},
            {"name": "good", "kind": "feed", "url": feed_server.url("/feed.xml"), **OLD_OK},
            {"name": "garbage", "kind": "feed", "url": feed_server.url("/garbage")},
        ],
        smtp=_smtp(smtp_sink),
    )
    feed_server.routes["/garbage"] = Route(b"\x00\x01 this is not a feed", headers={})
    assert await run_once(config) == 1
    assert len(smtp_sink.messages) == 3
    async with Runtime(config) as rt, reading(rt.db) as session:
        rows = {r.name: r for r in (await session.exec(select(SourceRow))).all()}
    assert rows["good"].consecutive_failures == 0
    assert rows["good"].last_success_at
    for name in ("broken", "offline", "garbage"):
        assert rows[name].consecutive_failures == 1
        assert rows[name].last_error
    assert "HTTP 500" in (rows["broken"].last_error or "")
    assert "not a feed" in (rows["garbage"].last_error or "")

    assert await run_once(config) == 1
    async with Runtime(config) as rt, reading(rt.db) as session:
        broken = await session.get(SourceRow, "broken")
        items = (await session.exec(select(ItemRow))).all()
    assert broken is not None
    assert broken.consecutive_failures == 2
    assert len(items) == 5  # the good feed's items are untouched by the failures


async def test_run_once_reports_progress_per_source(make_config: MakeConfig) -> None:
    """The progress callback advances once per polled source, failed ones included."""
    steps: list[int] = []
    config = make_config(
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds")},
            {"name": "missing", "kind": "files", "path": "/nonexistent"},
        ]
    )
    assert await run_once(config, steps.append) == 1
    assert steps == [1, 1]


async def test_a_round_of_many_polls_classifies_and_stores_a_few_at_a_time(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Twelve polls at once: at most `storing`'s places parse, classify and store; all stored."""
    feed_server.routes.update({f"/f{n}.xml": Route(SAMPLE_FEED) for n in range(12)})
    config = make_config(
        sources=[
            {"name": f"s{n}", "kind": "feed", "url": feed_server.url(f"/f{n}.xml"), **OLD_OK}
            for n in range(12)
        ],
        polling={"parse_workers": 0},
    )
    async with Runtime(config) as rt:
        places = PARSE_THREADS + STORING_SPARE
        assert rt.storing._value == places
        most = 0
        round_ = asyncio.ensure_future(one_round(rt))
        while not round_.done():
            most = max(most, places - rt.storing._value)
            await asyncio.sleep(0)
        assert await round_ == 0
        assert rt.storing._value == places  # every place given back
        async with reading(rt.db) as session:
            items = (await session.exec(select(ItemRow))).all()
    assert 0 < most <= places
    per_feed = len({(i.title, i.link) for i in items if i.source == "s0"})
    assert per_feed > 0
    assert len(items) == 12 * per_feed
