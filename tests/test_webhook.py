"""The signed webhook channel against a real HTTP receiver on 127.0.0.1.

The receiver checks each POST as a subscriber's server would: the signature with the
README's verification function, the body against the published JSON Schema.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.clock import Clock
from tests.conftest import ROOT
from tests.delivery import BAN, FLOOD, all_rows, cycle, dispatch, entries, feed_source, feed_xml
from tests.receiver import Receiver
from tests.rows import DeliveryRow, NoticeRow
from tests.servers import FeedServer, Route, free_port
from watcher.config import WatcherConfig
from watcher.config.load import load_config

KEY = "whsec-test-key-0123456789"
ENV = {"WATCHER_WEBHOOK__SECRET": KEY}
SCHEMA = json.loads((ROOT / "docs" / "webhook.schema.json").read_text(encoding="utf-8"))
WriteConfig = Callable[..., Path]


def verify(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """The README's verification snippet, verbatim: signature matches and is recent."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp, received = int(parts["t"]), parts["v1"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, received) and abs(time.time() - timestamp) <= tolerance


def _config(
    write_config: WriteConfig, feed: str, urls: list[str], env: dict[str, str] = ENV, **more: Any
) -> WatcherConfig:
    path = write_config(
        sources=[feed_source(feed)],
        subscribers=[{"email": "analyst@example.com", "channels": {"webhook": urls}}],
        **more,
    )
    return load_config(path, environ=env)


async def test_each_alert_is_posted_once_signed_and_valid_against_the_schema(
    feed_server: FeedServer, receiver: Receiver, write_config: WriteConfig
) -> None:
    """Two items: two POSTs, each signed, schema-valid, its ID the idempotency key; none twice."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD)))
    config = _config(write_config, feed_server.url("/f"), [receiver.url("/hook")])
    clock = Clock()
    await cycle(config, clock)
    assert len(receiver.requests) == 2
    rows = {
        r.message_id.strip("<>"): r
        for r in await all_rows(config, DeliveryRow)
        if r.channel == "webhook"
    }
    for request in receiver.requests:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert headers["content-type"] == "application/json"
        assert verify(KEY, request.body, headers["x-supply-watcher-signature"])
        assert not verify("another-key", request.body, headers["x-supply-watcher-signature"])
        assert headers["x-supply-watcher-timestamp"] in headers["x-supply-watcher-signature"]
        payload = json.loads(request.body)
        jsonschema.validate(payload, SCHEMA)
        assert headers["idempotency-key"] == payload["id"] == headers["x-supply-watcher-alert-id"]
        assert rows[payload["id"]].status == "sent"
        assert payload["subscriber"] == "analyst@example.com"
        for sig in payload["signals"]:
            for evidence in sig["evidence"]:
                for span in evidence["spans"]:
                    assert evidence["sentence"][span["start"] : span["end"]] == span["text"]
    titles = sorted(json.loads(r.body)["item"]["title"] for r in receiver.requests)
    assert titles == sorted([BAN[0], FLOOD[0]])
    assert any(
        s["type"] == "export_control" and s["evidence"]
        for r in receiver.requests
        for s in json.loads(r.body)["signals"]
    )

    clock.advance(timedelta(hours=1))
    await cycle(config, clock)
    assert len(receiver.requests) == 2  # a re-poll sends nothing again


async def test_a_5xx_is_retried_with_backoff_and_the_same_id(
    feed_server: FeedServer, receiver: Receiver, write_config: WriteConfig
) -> None:
    """503 then 200: the row waits for the backoff, then the same alert ID is delivered."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = _config(
        write_config, feed_server.url("/f"), [receiver.url("/hook")], dispatcher={"backoff": "1m"}
    )
    receiver.statuses.extend([503])
    clock = Clock()
    await cycle(config, clock)
    [row] = [r for r in await all_rows(config, DeliveryRow) if r.channel == "webhook"]
    assert (row.status, row.attempts) == ("pending", 1)
    assert "HTTP 503" in (row.last_error or "")
    assert row.next_attempt_at > clock.now
    assert (await dispatch(config, clock)).sent == 0  # not before the backoff
    clock.advance(timedelta(minutes=2))
    assert (await dispatch(config, clock)).sent == 1
    first, second = (json.loads(r.body)["id"] for r in receiver.requests)
    assert first == second == row.message_id.strip("<>")


@pytest.mark.parametrize("status", [400, 404, 410])
async def test_a_4xx_is_a_dead_letter_at_once(
    feed_server: FeedServer, receiver: Receiver, write_config: WriteConfig, status: int
) -> None:
    """A receiver that refuses the alert (4xx) is not asked again: a dead letter after one try."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = _config(
        write_config, feed_server.url("/f"), [receiver.url("/hook")], admins=["ops@example.com"]
    )
    receiver.statuses.extend([status])
    clock = Clock()
    await cycle(config, clock)
    [row] = [r for r in await all_rows(config, DeliveryRow) if r.channel == "webhook"]
    assert (row.status, row.attempts) == ("dead", 1)
    assert f"HTTP {status}" in (row.last_error or "")
    [notice] = await all_rows(config, NoticeRow)
    assert notice.subject == "Webhook alert to analyst@example.com could not be delivered"
    clock.advance(timedelta(hours=2))
    await dispatch(config, clock)
    assert len(receiver.requests) == 1


async def test_a_network_error_is_retried_and_secrets_stay_out_of_the_error(
    feed_server: FeedServer, write_config: WriteConfig
) -> None:
    """Nobody listening: the row waits for a retry; its error names the URL with the key masked."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    url = f"http://127.0.0.1:{free_port()}/hook/{'k' * 24}?token=${{HOOK_TOKEN}}&sig=literal-secret"
    os.environ["HOOK_TOKEN"] = "from-the-environment"
    try:
        config = _config(write_config, feed_server.url("/f"), [url])
        await cycle(config, Clock())
    finally:
        del os.environ["HOOK_TOKEN"]
    [row] = [r for r in await all_rows(config, DeliveryRow) if r.channel == "webhook"]
    assert (row.status, row.attempts) == ("pending", 1)
    error = row.last_error or ""
    assert "ClientConnectorError" in error  # cannot connect (aiohttp's name for it)
    assert "/hook/***?token=${HOOK_TOKEN}&sig=***" in error
    for secret in ("k" * 24, "from-the-environment", "literal-secret"):
        assert secret not in error


async def test_the_environment_supplies_secrets_inside_the_url(
    feed_server: FeedServer, receiver: Receiver, write_config: WriteConfig
) -> None:
    """`${HOOK_TOKEN}` in the URL is the variable's value when sent, the name everywhere else."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    os.environ["HOOK_TOKEN"] = "from-the-environment"
    try:
        config = _config(
            write_config, feed_server.url("/f"), [receiver.url("/hook?t=${HOOK_TOKEN}")]
        )
        await cycle(config, Clock())
    finally:
        del os.environ["HOOK_TOKEN"]
    [request] = receiver.requests
    assert request.path == "/hook?t=from-the-environment"
    [row] = [r for r in await all_rows(config, DeliveryRow) if r.channel == "webhook"]
    assert "from-the-environment" not in (row.reply or "")
    assert "${HOOK_TOKEN}" in (row.reply or "")


async def test_kill_between_post_and_commit_replays_the_same_alert_id(
    feed_server: FeedServer, receiver: Receiver, write_config: WriteConfig
) -> None:
    """SIGKILL while the receiver holds its 200: after the lease, one replay with the same ID."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))],
        subscribers=[
            {"email": "analyst@example.com", "channels": {"webhook": [receiver.url("/hook")]}}
        ],
    )
    config = load_config(path, environ=ENV)
    receiver.hold.clear()  # the POST arrives, its answer is kept back: no commit possible
    log = path.parent / "child.log"
    with log.open("wb") as output:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "watcher", "run", "--once", "--config", str(path)),
            cwd=ROOT,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **ENV},
        )
    try:
        got = await asyncio.to_thread(receiver.got.wait, 60)
        assert got, log.read_text()
        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    receiver.hold.set()

    [row] = [r for r in await all_rows(config, DeliveryRow) if r.channel == "webhook"]
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.lease_until is not None
    clock = Clock()
    assert (await dispatch(config, clock)).sent == 0  # still leased by the dead dispatcher
    clock.advance(config.dispatcher.lease + timedelta(seconds=1))
    await dispatch(config, clock)
    first, replay = receiver.requests
    ids = [json.loads(r.body)["id"] for r in (first, replay)]
    keys = [
        {k.lower(): v for k, v in r.headers.items()}["idempotency-key"] for r in (first, replay)
    ]
    assert ids[0] == ids[1] == keys[0] == keys[1] == row.message_id.strip("<>")
    [row] = [r for r in await all_rows(config, DeliveryRow) if r.channel == "webhook"]
    assert row.status == "sent"
    clock.advance(timedelta(hours=1))
    await cycle(config, clock)
    assert len(receiver.requests) == 2
