"""The channel seam: how an alert reaches a subscriber, one channel per way of reaching.

A channel is a renderer plus a transport. It says where a subscriber is reached
(`targets`: endpoint keys to endpoints), turns an alert into what its transport sends
(`render`), and opens a transport for a dispatch pass. Everything else is shared: the
outbox row (keyed by subscriber, channel, target, story and signal type), the claim
under a lease, the send loop (`watcher.notify.sender`), the retry policy and dead
letters. Email (`watcher.notify.channels.mail`) is one channel; a new one is a module
or package under `watcher/notify/channels/` that defines `CHANNEL`, a `ChannelKind`,
plus its config and its README section. Nothing else changes.

A subscriber names the other channels it is reached on under `channels:` in the config
(channel name → endpoints); email reaches every subscriber at its address.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import pkgutil
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from watcher.concurrency.pool import Runs
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.errors import ConfigError
from watcher.domain.items import Outbound, Recipient

EMAIL = "email"  # the channel every subscriber is on, at its address


class Transport(Protocol):
    """Sends rendered messages within one `async with` block (a dispatch pass or batch).

    Errors come as `TransientDeliveryError` (retry later; `TransportUnavailable` when
    nothing could be sent at all, so untried messages are not charged an attempt) or
    `PermanentDeliveryError` (a dead letter).
    """

    connections: int
    """How many messages may be in flight at once over this transport."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def send(self, message: Any) -> str:
        """Deliver `message` (what the channel rendered); the receiver's reply."""
        ...


class Channel(Protocol):
    """One way of reaching subscribers, set up for a running service."""

    name: str
    send_timeout: timedelta
    """The longest one send may take (no send starts closer than twice this to a lease's end)."""

    def targets(self, subscriber: Subscriber) -> Mapping[str, str]:
        """Where `subscriber` is reached on this channel: target key → endpoint.

        The key is stored on the outbox row; it must stay the same while the endpoint
        does (so a config reload does not re-send), and be at most 64 characters.
        """
        ...

    def transport(self) -> Transport:
        """A transport for one dispatch pass; opened when the pass has something to send."""
        ...

    async def render(
        self, outbound: Outbound, subscriber: Subscriber, endpoint: str, now: datetime
    ) -> Any:
        """The message that tells `subscriber` at `endpoint` about `outbound`."""
        ...


@runtime_checkable
class RendersMany(Protocol):
    """A channel that can render several alerts in one go (one hop to its workers, not one each).

    The dispatcher uses it when a channel has it (email does); `render` stays the contract
    every channel keeps.
    """

    async def render_many(
        self, alerts: Sequence[tuple[Outbound, Subscriber, str]], now: datetime
    ) -> list[Any]:
        """What `render(outbound, subscriber, endpoint, now)` returns, for each alert in order.

        An alert that cannot be rendered has the `DeliveryError` its `render` would raise
        in its place (a worker that failed the whole call: a `TransientDeliveryError` for
        each), so one bad alert never holds up the others. Any other exception is raised.
        """
        ...


class ChannelKind(Protocol):
    """What a channel module exports as `CHANNEL`: its name and how to set it up."""

    name: str

    def __call__(self, config: WatcherConfig, workers: Runs | None) -> Channel:
        """The channel for a running service (`workers` render off the event loop)."""
        ...

    def check(self, config: WatcherConfig) -> list[str]:
        """Problems with this channel's part of `config`, without sending anything."""
        ...


def target_key(channel: str, endpoint: str) -> str:
    """A stable key for an endpoint of a channel with several per subscriber."""
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
    return f"{channel}:{digest}"


def url_targets(channel: str, subscriber: Subscriber) -> dict[str, str]:
    """The targets of a channel reached by URLs: one per URL the subscriber lists under it,
    keyed by the URL as written (`${VAR}`s unexpanded, so a rotated secret keeps its key)."""
    return {target_key(channel, url): url for url in subscriber.channels.get(channel, [])}


@functools.cache
def installed() -> dict[str, ChannelKind]:
    """Every channel under `watcher.notify.channels`, by name."""
    from watcher.notify import channels

    found: dict[str, ChannelKind] = {}
    for module in pkgutil.iter_modules(channels.__path__, f"{channels.__name__}."):
        kind: ChannelKind | None = getattr(importlib.import_module(module.name), "CHANNEL", None)
        if kind is not None:
            found[kind.name] = kind
    return found


def channels_for(
    config: WatcherConfig,
    workers: Runs | None = None,
    extra: Iterable[ChannelKind] = (),
) -> dict[str, Channel]:
    """The channels the config's subscribers use (email always), set up, by name.

    `extra` are channel kinds beside the installed ones (a test's own channel). A
    subscriber naming a channel that does not exist is a `ConfigError`.
    """
    kinds = {**installed(), **{kind.name: kind for kind in extra}}
    check_channels(config, kinds)
    wanted = {EMAIL} | {name for s in config.subscribers for name in s.channels}
    return {name: kinds[name](config, workers) for name in sorted(wanted)}


def check_channels(config: WatcherConfig, kinds: Mapping[str, ChannelKind] | None = None) -> None:
    """Raise `ConfigError` listing unknown channel names and each channel's own problems."""
    kinds = installed() if kinds is None else kinds
    problems = [
        f"subscribers.{index}.channels.{name}: no such channel (known: {', '.join(sorted(kinds))})"
        for index, subscriber in enumerate(config.subscribers)
        for name in subscriber.channels
        if name not in kinds
    ]
    used = {EMAIL} | {name for s in config.subscribers for name in s.channels}
    for name in sorted(used & kinds.keys()):
        problems.extend(kinds[name].check(config))
    if problems:
        raise ConfigError(problems)


def recipients_of(subscriber: Subscriber, channels: Mapping[str, Channel]) -> list[Recipient]:
    """Every place `subscriber` is reached, in channel order.

    A digest subscriber's email waits for the digest; its other channels get each alert
    as it comes.
    """
    return [
        Recipient(
            subscriber.address,
            name,
            key,
            "digest" if name == EMAIL and subscriber.mode == "digest" else "immediate",
        )
        for name, channel in channels.items()
        for key in channel.targets(subscriber)
    ]
