"""A dispatcher killed with SIGKILL inside the send→commit window loses nothing."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from tests.clock import Clock
from tests.conftest import ROOT
from tests.delivery import BAN, all_rows, cycle, dispatch, entries, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.rows import DeliveryRow
from tests.servers import FeedServer, Route
from watcher.config.load import load_config


async def test_kill_between_send_and_commit_resends_once_with_the_same_message_id(
    feed_server: FeedServer, mail_server: MailServer, write_config: Callable[..., Path]
) -> None:
    """SIGKILL after the server has the message but before the mark: one resend, same ID."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    config = load_config(path, environ={})
    mail_server.handler.go_on.clear()  # keep the 250 back: the client cannot commit
    log = path.parent / "child.log"
    with log.open("wb") as output:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "watcher", "run", "--once", "--config", str(path)),
            cwd=ROOT,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        received = await asyncio.to_thread(mail_server.handler.received.wait, 30)
        assert received, log.read_text()
        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    mail_server.handler.go_on.set()

    [row] = await all_rows(config, DeliveryRow)
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.lease_until is not None  # still held by the dead dispatcher

    clock = Clock()
    assert (await dispatch(config, clock)).sent == 0  # the lease has not expired yet
    clock.advance(config.dispatcher.lease + timedelta(seconds=1))
    assert (await dispatch(config, clock)).sent == 1
    clock.advance(timedelta(hours=1))
    assert (await cycle(config, clock)).sent == 0

    first, second = mail_server.messages
    assert first["Message-ID"] == second["Message-ID"] == row.message_id
    [row] = await all_rows(config, DeliveryRow)
    assert (row.status, row.attempts, row.lease_until) == ("sent", 1, None)
