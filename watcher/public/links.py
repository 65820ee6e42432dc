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
from watcher.domain.errors import ConfigError
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


def check_public(config: WatcherConfig) -> list[str]:
    """Problems with the `public:` section that would make its links fail, without serving."""
    public = config.public
    problems = []
    try:
        tokens = Tokens.of(public)
    except ConfigError as exc:
        return list(exc.problems)
    if public.enabled and tokens is None:
        problems.append(
            "public.secret: the public endpoint checks signed links; set WATCHER_PUBLIC__SECRET"
            " or public.secret_file"
        )
    if public.enabled and not public.base_url:
        problems.append(
            "public.base_url: set the https URL readers reach the endpoint at"
            " (links in emails are made from it)"
        )
    if public.base_url and not public.base_url.startswith("https://"):
        problems.append("public.base_url: one-click unsubscribe (RFC 8058) needs an https URL")
    return problems
