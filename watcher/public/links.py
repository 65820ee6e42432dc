"""The public endpoint's signed links, as put in emails: unsubscribe and personal feeds.

Paths: `/unsubscribe?token=…` (GET: a confirm page; POST: one-click, RFC 8058) and
`/feeds/subscriber.atom?token=…` (the subscriber's own Atom feed). A link exists only
when `public.base_url` and a signing key are both set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from watcher.config import WatcherConfig
from watcher.public.tokens import FEED, UNSUBSCRIBE, Tokens

UNSUBSCRIBE_PATH = "/unsubscribe"
SUBSCRIBER_FEED_PATH = "/feeds/subscriber.atom"


@dataclass(frozen=True, slots=True)
class Links:
    """Makes signed links under one base URL (picklable: rendering workers use it)."""

    base_url: str
    tokens: Tokens

    @classmethod
    def of(cls, config: WatcherConfig) -> Links | None:
        """The config's link maker, or None without a base URL or a signing key."""
        if not config.public.base_url:
            return None
        tokens = Tokens.of(config.public)
        return None if tokens is None else cls(config.public.base_url.rstrip("/"), tokens)

    def unsubscribe(self, address: str, list_name: str, now: datetime) -> str:
        """The one-click unsubscribe URL of `address` for `list_name` (`alerts`, `digest`)."""
        token = self.tokens.sign(address, UNSUBSCRIBE, now, list_name)
        return f"{self.base_url}{UNSUBSCRIBE_PATH}?token={quote(token, safe='')}"

    def feed(self, address: str, now: datetime) -> str:
        """The URL of `address`'s own Atom feed."""
        token = self.tokens.sign(address, FEED, now)
        return f"{self.base_url}{SUBSCRIBER_FEED_PATH}?token={quote(token, safe='')}"
