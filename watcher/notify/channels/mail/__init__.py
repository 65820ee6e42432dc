"""The email channel: alerts, digests and admin notices as checked RFC 5322 messages.

Every subscriber is on it, at its address. Alerts are rendered in the parse pool (its
threads, or its worker processes once started; from an `AlertStyle`, small to send),
several per hop to the pool (`render_many`), and sent over up to
`dispatcher.connections` SMTP connections per dispatch pass, or written to the
mail-drop folder when no SMTP host is set. The alert renderer and its style are loaded
when the first alert is rendered: a round with nothing to send never imports them
(issue 20).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from watcher.concurrency.pool import Runs
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.errors import DeliveryError, TransientDeliveryError, WorkerError
from watcher.domain.items import Outbound
from watcher.notify.channel import EMAIL
from watcher.notify.channels.mail.transport import SharedTransport, transport_for

if TYPE_CHECKING:
    from watcher.notify.channels.mail.alert import AlertStyle, MailSettings
    from watcher.notify.channels.mail.outgoing import Outgoing

Renderer = Callable[..., "Outgoing"]  # (outbound, settings, subscriber, now): picklable by name


class MailChannel:
    """Email for one running service: its relay (or mail drop) and its renderer."""

    name = EMAIL

    def __init__(
        self,
        config: WatcherConfig,
        workers: Runs | None,
        renderer: Renderer | None = None,
    ) -> None:
        """`renderer` defaults to `watcher.notify.channels.mail.alert.render_alert_mail`."""
        self.config = config
        self.workers = workers
        self._renderer = renderer
        self.send_timeout: timedelta = config.smtp.timeout

    @cached_property
    def renderer(self) -> Renderer:
        """The alert renderer, the default imported when first asked for."""
        if self._renderer is not None:
            return self._renderer
        from watcher.notify.channels.mail.alert import render_alert_mail

        return render_alert_mail

    @cached_property
    def style(self) -> AlertStyle:
        """What the renderer needs of the config (`AlertStyle.of`), made when first asked for."""
        from watcher.notify.channels.mail.alert import AlertStyle

        return AlertStyle.of(self.config)

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

    async def render_many(
        self, alerts: Sequence[tuple[Outbound, Subscriber, str]], now: datetime
    ) -> list[Outgoing | DeliveryError]:
        """Each alert's email as `render` makes it, all in one call to the parse pool.

        An alert that fails to render has its `DeliveryError` in its place; a worker that
        overruns its deadline or dies makes every alert of the call wait for a retry.
        """
        pairs = [(outbound, subscriber) for outbound, subscriber, _ in alerts]
        if self.workers is None:
            return render_each(self.renderer, pairs, self.config, now)
        what = f"rendering alert {pairs[0][0].message_id}" if pairs else "rendering no alert"
        if len(pairs) > 1:
            what += f" and {len(pairs) - 1} more"
        try:
            return await self.workers.run(what, render_each, self.renderer, pairs, self.style, now)
        except WorkerError as exc:
            return [TransientDeliveryError(str(exc)) for _ in pairs]


def render_each(
    renderer: Renderer,
    alerts: Sequence[tuple[Outbound, Subscriber]],
    settings: MailSettings,
    now: datetime,
) -> list[Outgoing | DeliveryError]:
    """`renderer(outbound, settings, subscriber, now)` for each alert, in order; an alert
    whose rendering raises a `DeliveryError` (an unsafe message) has it in its place.

    Runs in the parse pool, so a batch of alerts costs one hop to it, not one each.
    """
    rendered: list[Outgoing | DeliveryError] = []
    for outbound, subscriber in alerts:
        try:
            rendered.append(renderer(outbound, settings, subscriber, now))
        except DeliveryError as exc:
            rendered.append(exc)
    return rendered


class MailKind:
    """The email channel's `CHANNEL`."""

    name = EMAIL

    def __call__(self, config: WatcherConfig, workers: Runs | None) -> MailChannel:
        return MailChannel(config, workers)

    def check(self, config: WatcherConfig) -> list[str]:
        """Email's settings are checked by the config schema itself."""
        return []


CHANNEL = MailKind()
