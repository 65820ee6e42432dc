"""A half-saved config never empties the running one; no config edit makes mail a dead letter."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import yaml
from sqlmodel import select
from typer.testing import CliRunner

from tests.clock import Clock
from tests.conftest import ROOT, WriteConfig
from tests.delivery import BAN, all_rows, dispatch, entries, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.orm import reading
from tests.rows import DeliveryRow, NoticeRow
from tests.servers import FeedServer, Route
from watcher.cli.app import app
from watcher.config import WatcherConfig
from watcher.config.load import load_config
from watcher.service.daemon import Daemon
from watcher.service.pipeline import poll_source
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]
REFUSE = "451 4.3.0 Try again later"


async def _until(predicate: Callable[[], bool], what: str) -> None:
    """Wait (at most 30 s) until `predicate()` holds."""
    try:
        async with asyncio.timeout(30):
            while not predicate():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def _alerts(server: MailServer) -> list[list[str]]:
    """The recipients of each accepted message that went to the subscriber."""
    return [to for _, to in server.handler.envelopes if to == ["analyst@example.com"]]


async def test_empty_and_cut_files_are_refused_while_pending_mail_goes_to_its_subscriber(
    write_config: WriteConfig, mail_server: MailServer, tmp_path: Path
) -> None:
    """Empty, then cut before its sources: both refused; the alert due meanwhile is delivered."""
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(ROOT / "seeds" / "03-mining-quota-announcement.md", folder)
    path = write_config(
        sources=[{"name": "docs", "kind": "files", "path": str(folder), "backfill": "3650d"}],
        admins=["ops@example.com"],
        smtp=mail_server.smtp_config(),
        service={"reload_check": "0.2s"},
        dispatcher={
            "every": "1s",
            "backoff": "1s",
            "backoff_max": "1s",
            "max_attempts": 100,
        },
    )
    good = path.read_text(encoding="utf-8")
    cut = good[: good.index("\nsources:")]  # valid YAML: everything up to the sources
    replies = mail_server.handler.data_replies
    replies.extend([REFUSE] * 200)  # the relay defers the alert: it stays due, again and again
    daemon = Daemon(load_config(path, environ={}), path)
    task = asyncio.create_task(daemon.run())
    rejected = daemon.metrics.reloads.labels("rejected")
    try:
        await _until(lambda: len(replies) <= 198, "the alert to be tried twice")
        path.write_text("", encoding="utf-8")
        await _until(lambda: rejected._value.get() == 1, "the empty file to be refused")
        path.write_text(cut, encoding="utf-8")
        await _until(lambda: rejected._value.get() == 2, "the cut file to be refused")
        tried = len(replies)
        await _until(lambda: len(replies) < tried, "an attempt while the cut file is in place")
        assert [s.address for s in daemon.config.subscribers] == ["analyst@example.com"]
        assert [s.name for s in daemon.config.sources] == ["docs"]
        replies.clear()  # the relay takes mail again
        await _until(lambda: bool(_alerts(mail_server)), "the alert to be delivered")
        path.write_text(good, encoding="utf-8")
        await _until(
            lambda: daemon.metrics.reloads.labels("applied")._value.get() == 1,
            "the real file to be applied",
        )
    finally:
        daemon.stop()
        assert await task == 0
    assert len(_alerts(mail_server)) == 1  # the rest are the admins' two notices
    rows = await all_rows(daemon.config, DeliveryRow)
    assert [r.status for r in rows] == ["sent"]
    async with Runtime(daemon.config) as rt, reading(rt.db) as session:
        notices = (await session.exec(select(NoticeRow))).all()
    refused = [n.body for n in notices if n.key.startswith("config-rejected")]
    assert len(refused) == 2
    assert "no sources, subscribers, signals" in refused[0]
    assert "allow_empty: [sources, subscribers, signals]" in refused[0]
    assert "no sources, subscribers" in refused[1]


async def test_an_explicitly_empty_section_is_applied(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """`allow_empty: [sources]` says the operator means it: the reload goes through."""
    path = write_config(
        sources=[{"name": "docs", "kind": "files", "path": str(tmp_path)}],
        service={"reload_check": "0.2s"},
    )
    daemon = Daemon(load_config(path, environ={}), path)
    task = asyncio.create_task(daemon.run())
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data.update(sources=[], allow_empty=["sources"])
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        await _until(
            lambda: daemon.metrics.reloads.labels("applied")._value.get() == 1, "the reload"
        )
    finally:
        daemon.stop()
        assert await task == 0
    assert daemon.config.sources == []


async def test_mail_for_a_subscriber_who_comes_back_is_sent(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig, database_url: str
) -> None:
    """Queued, subscriber gone from the config, back a minute later: the alert goes out once."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    sources = [feed_source(feed_server.url("/f"))]
    clock = Clock()
    database = {"url": database_url}
    with_analyst = make_config(sources=sources, smtp=mail_server.smtp_config(), database=database)
    async with Runtime(with_analyst, clock=clock) as rt:
        await poll_source(rt, rt.config.sources[0])
    without = make_config(
        sources=sources,
        smtp=mail_server.smtp_config(),
        subscribers=[],
        allow_empty=["subscribers"],
        database=database,
    )
    report = await dispatch(without, clock)
    assert (report.sent, report.dead, report.retried) == (0, 0, 1)
    clock.advance(timedelta(minutes=1, seconds=1))
    report = await dispatch(with_analyst, clock)
    assert (report.sent, report.dead) == (1, 0)
    assert [m["To"].addresses[0].addr_spec for m in mail_server.messages] == ["analyst@example.com"]
    [row] = await all_rows(with_analyst, DeliveryRow)
    assert row.status == "sent"


def test_check_config_says_an_empty_file_would_be_refused(tmp_path: Path) -> None:
    """`check-config` on an empty file warns as the reload would refuse; `allow_empty` quiets it."""
    path = tmp_path / "watcher.yaml"
    path.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert "the file has no sources, subscribers, signals" in result.stderr
    assert "a hot reload to it is refused" in result.stderr
    path.write_text("allow_empty: [sources, subscribers]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert "the file has no signals" in result.stderr
