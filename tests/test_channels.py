"""The channel seam: a channel written in a test, by implementing the seam alone, gets alerts.

`ToyChannel` appends each alert as a JSON line to a file named by the subscriber's
endpoint: it implements `watcher.notify.channel.Channel` and nothing else of the
service. Everything it relies on (the outbox row per subscriber and channel, the claim,
the send loop, retries and exactly-once) is the service's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

from tests.clock import Clock
from tests.delivery import BAN, FLOOD, all_rows, entries, feed_source, feed_xml
from tests.rows import DeliveryRow
from tests.servers import FeedServer, Route
from watcher.concurrency.pool import WorkerPool
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.errors import ConfigError, TransientDeliveryError
from watcher.domain.items import Outbound
from watcher.notify.channel import target_key
from watcher.service.rounds import dispatch_all, poll_with_deadline, prepare_sources
from watcher.service.runtime import Runtime


class FileTransport:
    """Appends each message to the file it names; `down` makes every send fail for now."""

    connections = 1
    down = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send(self, message: Any) -> str:
        if FileTransport.down:
            raise TransientDeliveryError("the toy receiver is down")
        path, line = message
        with Path(path).open("a", encoding="utf-8") as handle:  # noqa: ASYNC230 (a few bytes)
            handle.write(line + "\n")
        return f"appended to {path}"


class ToyChannel:
    """Alerts as JSON lines: title, signal types and the alert's stable ID."""

    name = "toy"
    send_timeout = timedelta(seconds=5)

    def targets(self, subscriber: Subscriber) -> Mapping[str, str]:
        return {target_key(self.name, path): path for path in subscriber.channels.get("toy", [])}

    def transport(self) -> FileTransport:
        return FileTransport()

    async def render(
        self, outbound: Outbound, subscriber: Subscriber, endpoint: str, now: datetime
    ) -> tuple[str, str]:
        alert = {
            "id": outbound.message_id,
            "to": subscriber.address,
            "title": outbound.item.title,
            "signals": sorted(s.type for s in outbound.signals),
        }
        return endpoint, json.dumps(alert)


class ToyKind:
    name = "toy"

    def __call__(self, config: WatcherConfig, workers: WorkerPool | None) -> ToyChannel:
        return ToyChannel()

    def check(self, config: WatcherConfig) -> list[str]:
        return []


def _inbox(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def _cycle(config: WatcherConfig, clock: Clock) -> None:
    async with Runtime(config, clock=clock, extra_channels=[ToyKind()]) as rt:
        for source in await prepare_sources(rt):
            await poll_with_deadline(rt, source)
        await dispatch_all(rt)


async def test_a_channel_written_in_a_test_gets_each_alert_once_beside_email(
    feed_server: FeedServer, make_config: Any, tmp_path: Path
) -> None:
    """Two items, two endpoints: each endpoint gets both alerts once; email still gets its own."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD)))
    inboxes = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        subscribers=[
            {"email": "analyst@example.com", "channels": {"toy": [str(p) for p in inboxes]}}
        ],
    )
    clock = Clock()
    await _cycle(config, clock)
    for inbox in inboxes:
        alerts = _inbox(inbox)
        assert sorted(a["title"] for a in alerts) == sorted([BAN[0], FLOOD[0]])
        assert all(a["to"] == "analyst@example.com" for a in alerts)
    rows = await all_rows(config, DeliveryRow)
    assert sorted(r.channel for r in rows) == ["email", "email", "toy", "toy", "toy", "toy"]
    assert {r.status for r in rows} == {"sent"}
    assert len(list((tmp_path / "data" / "maildrop").glob("*.eml"))) == 2

    clock.advance(timedelta(hours=1))
    await _cycle(config, clock)  # a restart and a re-poll: nothing is sent twice
    assert [len(_inbox(inbox)) for inbox in inboxes] == [2, 2]


async def test_a_channel_that_fails_is_retried_with_the_shared_policy_and_email_goes_on(
    feed_server: FeedServer, make_config: Any, tmp_path: Path
) -> None:
    """The toy receiver down: its rows wait for a retry with a backoff; email is not held up."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    inbox = tmp_path / "inbox.jsonl"
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        subscribers=[{"email": "analyst@example.com", "channels": {"toy": [str(inbox)]}}],
        dispatcher={"backoff": "1m"},
    )
    clock = Clock()
    FileTransport.down = True
    try:
        await _cycle(config, clock)
    finally:
        FileTransport.down = False
    rows = {r.channel: r for r in await all_rows(config, DeliveryRow)}
    assert rows["email"].status == "sent"
    toy = rows["toy"]
    assert (toy.status, toy.attempts, toy.last_error) == ("pending", 1, "the toy receiver is down")
    assert timedelta(seconds=30) <= toy.next_attempt_at - clock.now <= timedelta(minutes=1)
    assert _inbox(inbox) == []

    clock.advance(timedelta(minutes=2))
    await _cycle(config, clock)
    [alert] = _inbox(inbox)
    assert alert["id"] == toy.message_id  # the same stable ID as the failed attempt


async def test_a_subscriber_naming_an_unknown_channel_is_a_config_error(
    make_config: Any,
) -> None:
    """`channels: {pager: ...}` with no pager channel: the service refuses to start, saying so."""
    config = make_config(
        subscribers=[{"email": "analyst@example.com", "channels": {"pager": ["x"]}}]
    )
    with pytest.raises(ConfigError, match=r"subscribers\.0\.channels\.pager: no such channel"):
        async with Runtime(config):
            pass
