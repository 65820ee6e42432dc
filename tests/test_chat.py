"""The Apprise channel: Apprise's JSON and form notifications to a real local receiver.

One config entry reaches a subscriber by email, a signed webhook and Apprise URLs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.clock import Clock
from tests.delivery import BAN, all_rows, cycle, dispatch, entries, feed_source, feed_xml
from tests.receiver import Receiver
from tests.rows import DeliveryRow
from tests.servers import FeedServer, Route
from watcher.config.load import load_config

WriteConfig = Callable[..., Path]
ENV = {"WATCHER_WEBHOOK__SECRET": "whsec-test"}


async def test_one_entry_reaches_email_webhook_and_apprise_json_and_form(
    feed_server: FeedServer, receiver: Receiver, write_config: WriteConfig, tmp_path: Path
) -> None:
    """Email, webhook and two Apprise URLs from one subscriber: each gets the alert once."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    port = receiver.port
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))],
        subscribers=[
            {
                "email": "analyst@example.com",
                "channels": {
                    "webhook": [receiver.url("/hook")],
                    "apprise": [
                        f"json://127.0.0.1:{port}/apprise-json",
                        f"form://127.0.0.1:{port}/apprise-form",
                    ],
                },
            }
        ],
    )
    config = load_config(path, environ=ENV)
    clock = Clock()
    await cycle(config, clock)
    by_path = {r.path: r for r in receiver.requests}
    assert sorted(by_path) == ["/apprise-form", "/apprise-json", "/hook"]
    assert len(list((tmp_path / "data" / "maildrop").glob("*.eml"))) == 1

    note = json.loads(by_path["/apprise-json"].body)
    form = {k: v[0] for k, v in parse_qs(by_path["/apprise-form"].body.decode()).items()}
    for sent in (note, form):
        assert sent["title"].startswith("[Supply Watch] Export control · tightening · ")
        lines = sent["message"].splitlines()
        assert lines[0] == BAN[0]  # the headline
        assert "[" in lines[1]  # the first evidence sentence, matched terms marked
        assert lines[1].replace("[", "").replace("]", "") in BAN[0] + ". " + BAN[1]
        assert lines[-1].startswith("https://")  # the link
    rows = await all_rows(config, DeliveryRow)
    assert sorted(r.channel for r in rows) == ["apprise", "apprise", "email", "webhook"]
    assert {r.status for r in rows} == {"sent"}

    clock.advance(timedelta(hours=1))
    await cycle(config, clock)
    assert len(receiver.requests) == 3  # nothing twice


async def test_a_failing_apprise_service_is_retried_then_dead_with_its_secret_masked(
    feed_server: FeedServer,
    receiver: Receiver,
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """500s: retried with the backoff, a dead letter after the last attempt; no secret shown."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    url = f"json://bot:pa55w0rd-secret@127.0.0.1:{receiver.port}/notify"
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))],
        subscribers=[{"email": "analyst@example.com", "channels": {"apprise": [url]}}],
        dispatcher={"backoff": "1m", "max_attempts": 2},
    )
    config = load_config(path, environ={})
    receiver.statuses.extend([500, 500])
    clock = Clock()
    await cycle(config, clock)
    [row] = [r for r in await all_rows(config, DeliveryRow) if r.channel == "apprise"]
    assert (row.status, row.attempts) == ("pending", 1)
    assert "not delivered" in (row.last_error or "")
    assert "json://bot:***@127.0.0.1" in (row.last_error or "")
    clock.advance(timedelta(minutes=5))
    await dispatch(config, clock)
    [row] = [r for r in await all_rows(config, DeliveryRow) if r.channel == "apprise"]
    assert (row.status, row.attempts) == ("dead", 2)
    assert "pa55w0rd-secret" not in (row.last_error or "")
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers.get("Authorization", "").startswith("Basic ")
    logged = capsys.readouterr()
    assert "email_deferred" in logged.out + logged.err  # the send loop did log the failure
    for text in (logged.out, logged.err, caplog.text):
        assert "pa55w0rd-secret" not in text
