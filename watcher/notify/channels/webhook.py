"""The signed JSON webhook channel: each alert POSTed as JSON, signed with HMAC-SHA256.

A subscriber names URLs under `channels: {webhook: [...]}`. Every alert is one POST
with the payload of `docs/webhook.schema.json` and these headers:

- `X-Supply-Watcher-Signature: t=<unix time>,v1=<hex HMAC-SHA256>` over
  `<unix time>.` followed by the raw body, with the key `webhook.secret`;
- `X-Supply-Watcher-Timestamp`, the same time (receivers reject old ones: replays);
- `Idempotency-Key` and `X-Supply-Watcher-Alert-Id`: the alert's stable ID, the same
  on every retry and after a crash between send and commit.

A 2xx reply is delivery; 408, 429, 5xx and network errors are retried with the shared
backoff; any other reply is a dead letter.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import aiohttp
from yarl import URL

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
from watcher.sources.http import EnvProxies, as_url
from watcher.sources.tls import CaOnDemandConnector

NAME = "webhook"
SIGNATURE_HEADER = "X-Supply-Watcher-Signature"
TIMESTAMP_HEADER = "X-Supply-Watcher-Timestamp"
ALERT_ID_HEADER = "X-Supply-Watcher-Alert-Id"
PAYLOAD_VERSION = 1
_RETRIED = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One signed POST, ready to send."""

    url: str
    shown: str  # the URL as it may be logged (`endpoints.mask`)
    body: bytes
    headers: Mapping[str, str]


def alert_id(outbound: Outbound) -> str:
    """The alert's stable ID: its outbox message ID without the angle brackets."""
    return outbound.message_id.strip("<>")


def alert_payload(outbound: Outbound, config: WatcherConfig, now: datetime) -> dict[str, Any]:
    """The JSON document of one alert (`docs/webhook.schema.json`)."""
    item = outbound.item
    return {
        "version": PAYLOAD_VERSION,
        "id": alert_id(outbound),
        "sent_at": now.astimezone(UTC).isoformat(),
        "subscriber": outbound.subscriber,
        "item": {
            "title": item.title,
            "link": item.link,
            "published": item.published.astimezone(UTC).isoformat() if item.published else None,
            "source": item.source,
            "also_reported_by": list(outbound.also_reported_by),
        },
        "signals": [
            {
                "type": s.type,
                "label": config.signal_label(s.type),
                "direction": s.direction.value,
                "direction_uncertain": s.direction_uncertain,
                "direction_doubt": s.direction_doubt,
                "severity": s.severity.value,
                "score": round(s.score, 4),
                "speculative": s.speculative,
                "evidence": [
                    {
                        "sentence": e.sentence,
                        "in_title": e.in_title,
                        "marked": e.marked(),
                        "spans": [
                            {
                                "start": span.start,
                                "end": span.end,
                                "text": e.sentence[span.start : span.end],
                                "concept": span.concept,
                                **({"gloss": span.gloss} if span.gloss else {}),
                            }
                            for span in sorted(e.spans, key=lambda x: x.start)
                        ],
                    }
                    for e in s.evidence
                ],
                "entities": s.entities.as_dict(),
            }
            for s in outbound.signals
        ],
    }


def sign(key: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<timestamp>,v1=<hex HMAC-SHA256(key, "t." + body)>`."""
    digest = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signed_request(
    url: str, payload: Mapping[str, Any], key: str, now: datetime, user_agent: str
) -> WebhookRequest:
    """The POST of `payload` to `url` (with `${VAR}`s expanded), signed at `now`."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    try:
        real = expand(url)
    except MissingVariable as exc:
        raise TransientDeliveryError(f"webhook {mask(url)}: {exc}") from None
    return WebhookRequest(
        real,
        mask(url),
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": user_agent,
            SIGNATURE_HEADER: sign(key, timestamp, body),
            TIMESTAMP_HEADER: str(timestamp),
            "Idempotency-Key": str(payload["id"]),
            ALERT_ID_HEADER: str(payload["id"]),
        },
    )


class WebhookTransport:
    """POSTs signed requests over one pooled aiohttp session per dispatch pass.

    `timeout` bounds each step (waiting for a connection, connecting, each read);
    HTTP(S)_PROXY / NO_PROXY are honoured (`EnvProxies`); redirects are not followed (a
    3xx is a dead letter).
    """

    def __init__(self, timeout: timedelta, connections: int) -> None:
        self.connections = connections
        seconds = timeout.total_seconds()
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=seconds, sock_connect=seconds, sock_read=seconds
        )
        self._session: aiohttp.ClientSession | None = None
        self._proxies = EnvProxies()

    async def __aenter__(self) -> Self:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=CaOnDemandConnector(limit=self.connections),
                timeout=self._timeout,
            )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, message: Any) -> str:
        """POST `message` (a `WebhookRequest`); the receiver's status line."""
        assert isinstance(message, WebhookRequest)
        assert self._session is not None
        try:
            target = as_url(message.url)
            proxy, proxy_auth = self._proxies.for_url(target)
            async with self._session.post(
                target,
                data=message.body,
                headers=message.headers,
                allow_redirects=False,
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as reply:
                code = reply.status
                text = await reply.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            error = scrub(f"{type(exc).__name__}: {exc}", secret_parts(message.url))
            raise TransientDeliveryError(f"webhook {message.shown}: {error}") from None
        status = f"HTTP {code} from {message.shown}"
        if 200 <= code < 300:
            return status
        detail = scrub(text[:200], secret_parts(message.url))
        if code >= 500 or code in _RETRIED:
            raise TransientDeliveryError(f"{status}: {detail}")
        raise PermanentDeliveryError(f"{status}: {detail}")


class WebhookChannel:
    """Alerts as signed JSON POSTs to each subscriber's webhook URLs."""

    name = NAME

    def __init__(self, config: WatcherConfig) -> None:
        self.config = config
        self.send_timeout: timedelta = config.webhook.timeout

    def targets(self, subscriber: Subscriber) -> Mapping[str, str]:
        """One target per URL (`watcher.notify.channel.url_targets`)."""
        return url_targets(NAME, subscriber)

    def transport(self) -> WebhookTransport:
        return WebhookTransport(self.config.webhook.timeout, self.config.webhook.connections)

    async def render(
        self, outbound: Outbound, subscriber: Subscriber, endpoint: str, now: datetime
    ) -> WebhookRequest:
        """The signed POST of the alert; a missing signing key waits for a retry."""
        key = self.config.webhook.signing_key()
        if not key:
            raise TransientDeliveryError("webhook.secret is not set: cannot sign the alert")
        payload = alert_payload(outbound, self.config, now)
        return signed_request(endpoint, payload, key, now, self.config.user_agent)


class WebhookKind:
    """The webhook channel's `CHANNEL`."""

    name = NAME

    def __call__(self, config: WatcherConfig, workers: Runs | None) -> WebhookChannel:
        return WebhookChannel(config)

    def check(self, config: WatcherConfig) -> list[str]:
        """Each URL is http(s) with a host; the signing key and named variables are set."""
        problems = check_endpoints(config, NAME, _check_url)
        if not any(NAME in s.channels for s in config.subscribers):
            return problems
        try:
            key = config.webhook.signing_key()
        except OSError as exc:
            return [*problems, f"webhook.secret_file: cannot read it: {exc}"]
        if not key:
            problems.append(
                "webhook.secret: webhooks are signed; set WATCHER_WEBHOOK__SECRET or"
                " webhook.secret_file"
            )
        return problems


def _check_url(url: str) -> str | None:
    if not url.isprintable() or any(c.isspace() for c in url):
        return "not a URL: it holds spaces or control characters"
    try:
        parsed = URL(url)  # a bad port or IPv6 literal fails here
    except ValueError as exc:  # UnicodeError (a bad IDNA host) among them
        return f"not a URL: {exc}"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "a webhook URL is http:// or https:// with a host"
    return None


CHANNEL = WebhookKind()
