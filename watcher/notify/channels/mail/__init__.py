"""The email channel: alerts, digests and admin notices as checked RFC 5322 messages.

Every subscriber is on it, at its address. Alerts are rendered in the parse pool (its
threads, or its worker processes once started; from an `AlertStyle`, small to send),
sent over up to `dispatcher.connections` SMTP connections per dispatch pass, or written
to the mail-drop folder when no SMTP host is set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from watcher.concurrency.pool import Runs
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.errors import TransientDeliveryError, WorkerError
from watcher.domain.items import Outbound
from watcher.notify.channel import EMAIL
from watcher.notify.channels.mail.alert import AlertStyle, render_alert_mail
from watcher.notify.channels.mail.outgoing import Outgoing
from watcher.notify.channels.mail.transport import SharedTransport, transport_for


class MailChannel:
    """Email for one running service: its relay (or mail drop) and its renderer."""

    name = EMAIL

    def __init__(
        self,
        config: WatcherConfig,
        workers: Runs | None,
        renderer: Callable[..., Outgoing] = render_alert_mail,
    ) -> None:
        self.config = config
        self.workers = workers
        self.renderer = renderer  # (outbound, settings, subscriber, now): picklable by name
        self.style = AlertStyle.of(config)
        self.send_timeout: timedelta = config.smtp.timeout

    def targets(self, subscriber: Subscriber) -> Mapping[str, str]:
        """One target: the subscriber's address."""
        return {EMAIL: subscriber.address}

    def transport(self) -> SharedTransport:
        """Up to `dispatcher.connections` connections, each opened when a send needs it."""
        return SharedTransport(
            lambda: transport_for(self.config), self.config.dispatcher.connections
        )

    async def render(
        self, outbound: Outbound, subscriber: Subscriber, endpoint: str, now: datetime
    ) -> Outgoing:
        """The alert email, rendered in the parse pool when the service has one.

        A worker that overruns its deadline or dies makes the alert wait for a retry.
        """
        if self.workers is None:
            return self.renderer(outbound, self.config, subscriber, now)
        try:
            return await self.workers.run(
                f"rendering alert {outbound.message_id}",
                self.renderer,
                outbound,
                self.style,
                subscriber,
                now,
            )
        except WorkerError as exc:
            raise TransientDeliveryError(str(exc)) from exc


class MailKind:
    """The email channel's `CHANNEL`."""

    name = EMAIL

    def __call__(self, config: WatcherConfig, workers: Runs | None) -> MailChannel:
        return MailChannel(config, workers)

    def check(self, config: WatcherConfig) -> list[str]:
        """Email's settings are checked by the config schema itself."""
        return []


CHANNEL = MailKind()
