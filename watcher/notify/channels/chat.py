"""The Apprise channel (`apprise`): chat and push messages, one service URL each.

A subscriber names Apprise URLs under `channels: {apprise: [...]}`. Each alert is one
short message: the headline, the signal's type, direction and severity, the first
evidence sentence and the link. Secrets in a URL may come from the environment
(`tgram://${TELEGRAM_TOKEN}/12345`, `watcher.notify.endpoints`); every URL is masked
wherever it is shown. Apprise reports only success or failure, so a failure is retried
with the shared backoff and becomes a dead letter after `dispatcher.max_attempts`; an
URL Apprise cannot parse is a dead letter at once. Apprise is imported only when an
Apprise message is sent or checked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

from watcher.concurrency.pool import Runs
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.errors import PermanentDeliveryError, TransientDeliveryError
from watcher.domain.items import Outbound
from watcher.notify.channel import url_targets
from watcher.notify.endpoints import (
    MissingVariable,
    check_endpoints,
    expand,
    mask,
    scrub,
    secret_parts,
)

NAME = "apprise"
MAX_SENTENCE = 300


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One short notification for one Apprise URL."""

    url: str  # expanded: holds secrets, never shown
    shown: str
    title: str
    body: str


def shown(url: str) -> str:
    """An Apprise URL as it may be printed (a token standing for the host is hidden too)."""
    return mask(url, host_may_be_secret=True)


def chat_message(outbound: Outbound, config: WatcherConfig, url: str) -> ChatMessage:
    """The short message of `outbound` for the Apprise URL `url` (`${VAR}`s as written)."""
    first = outbound.signals[0]
    label = config.signal_label(first.type)
    more = len(outbound.signals) - 1
    title = f"[Supply Watch] {label} · {first.direction.value} · {first.severity.value}"
    if more:
        title += f" (+{more} more)"
    lines = [outbound.item.title or "(untitled report)"]
    if first.evidence:
        sentence = first.evidence[0].marked()
        lines.append(sentence if len(sentence) <= MAX_SENTENCE else sentence[:MAX_SENTENCE] + "…")
    if outbound.item.link:
        lines.append(outbound.item.link)
    try:
        real = expand(url)
    except MissingVariable as exc:
        raise TransientDeliveryError(f"apprise {shown(url)}: {exc}") from None
    return ChatMessage(real, shown(url), title, "\n".join(lines))


class AppriseTransport:
    """Sends each message with its own Apprise object (one URL each), within a timeout."""

    def __init__(self, timeout: timedelta, connections: int) -> None:
        self.connections = connections
        self._timeout = timeout.total_seconds()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send(self, message: Any) -> str:
        """Notify `message.url`; "delivered" or a delivery error (secrets masked)."""
        import apprise

        assert isinstance(message, ChatMessage)
        _quiet_apprise()
        notifier = apprise.Apprise()
        if not notifier.add(message.url):
            raise PermanentDeliveryError(
                f"apprise {message.shown}: not an Apprise URL (unknown service or malformed)"
            )
        try:
            async with asyncio.timeout(self._timeout):
                result = await notifier.async_notify(
                    body=message.body,
                    title=message.title,
                    body_format=apprise.NotifyFormat.TEXT,
                )
        except TimeoutError:
            raise TransientDeliveryError(
                f"apprise {message.shown}: no answer within {self._timeout:g} s"
            ) from None
        except Exception as exc:  # a plugin's own failure: retried like any network error
            error = scrub(f"{type(exc).__name__}: {exc}", secret_parts(message.url))
            raise TransientDeliveryError(f"apprise {message.shown}: {error}") from None
        if not result:
            status = getattr(getattr(result, "status", None), "name", "FAILURE")
            raise TransientDeliveryError(f"apprise {message.shown}: not delivered ({status})")
        return f"delivered by apprise to {message.shown}"


class AppriseChannel:
    """Alerts as short chat or push messages to each subscriber's Apprise URLs."""

    name = NAME

    def __init__(self, config: WatcherConfig) -> None:
        self.config = config
        self.send_timeout: timedelta = config.apprise.timeout

    def targets(self, subscriber: Subscriber) -> Mapping[str, str]:
        """One target per URL (`watcher.notify.channel.url_targets`)."""
        return url_targets(NAME, subscriber)

    def transport(self) -> AppriseTransport:
        return AppriseTransport(self.config.apprise.timeout, self.config.apprise.connections)

    async def render(
        self, outbound: Outbound, subscriber: Subscriber, endpoint: str, now: datetime
    ) -> ChatMessage:
        return chat_message(outbound, self.config, endpoint)


class AppriseKind:
    """The Apprise channel's `CHANNEL`."""

    name = NAME

    def __call__(self, config: WatcherConfig, workers: Runs | None) -> AppriseChannel:
        return AppriseChannel(config)

    def check(self, config: WatcherConfig) -> list[str]:
        """Each URL is one Apprise can parse (nothing is sent); named variables are set."""
        return check_endpoints(config, NAME, check_apprise_url, shown)


def check_apprise_url(url: str) -> str | None:
    """None when Apprise can build a notifier from `url` (without sending), else why not."""
    import apprise

    _quiet_apprise()
    if apprise.Apprise.instantiate(url) is None:
        return "not an Apprise URL (unknown service or malformed)"
    return None


def _quiet_apprise() -> None:
    """Apprise's own log lines may quote URLs: only its errors pass, and ours say more."""
    logging.getLogger("apprise").setLevel(logging.ERROR)


CHANNEL = AppriseKind()
