"""The public endpoint as a Starlette app: one-click unsubscribe and Atom feeds.

What it exposes (and nothing else):

- `GET /unsubscribe?token=T`: a page that asks to confirm with a button; changes nothing.
- `POST /unsubscribe?token=T`: unsubscribes at once (RFC 8058 one-click, or the
  button), 200, no login. The address comes only from the signed token.
- `GET /feeds/subscriber.atom?token=T`: the Atom feed of one subscriber's signals.
- `GET /feeds/<name>.atom`: the Atom feed of a filter named under `public.feeds`.

A forged, tampered or expired token gets 403 (400 when missing) with a page saying why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from watcher.config import SignalFilter, WatcherConfig
from watcher.domain.errors import TokenError
from watcher.public.feed import feed_tag, render_feed, signals_for_feed
from watcher.public.links import SUBSCRIBER_FEED_PATH, UNSUBSCRIBE_PATH
from watcher.public.pages import confirm_page, done_page, refused_page
from watcher.public.tokens import FEED, UNSUBSCRIBE, Claim, Tokens
from watcher.store import optouts
from watcher.store.db import Database

log = structlog.get_logger("watcher.public")
MAX_FORM_BYTES = 4096
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True, slots=True)
class Site:
    """What the endpoint reads: the store, the current config (reloads apply), the clock."""

    db: Database
    config: Callable[[], WatcherConfig]
    clock: Callable[[], datetime]


def create_app(site: Site) -> Starlette:
    """The ASGI app serving `site`."""

    async def unsubscribe(request: Request) -> Response:
        claim = _claim(site, request, UNSUBSCRIBE)
        if isinstance(claim, Response):
            return claim
        if request.method == "GET":
            return HTMLResponse(confirm_page(claim.address), headers=_HEADERS)
        body = await _small_body(request)
        if body is None:
            return _refused(413, f"the request body is larger than {MAX_FORM_BYTES} bytes")
        form = parse_qs(body.decode("utf-8", "replace"))
        # RFC 8058 §3.2: the one-click POST's body is `List-Unsubscribe=One-Click`
        how = "one-click" if form.get("List-Unsubscribe") == ["One-Click"] else "confirm-page"
        done = await optouts.unsubscribe(
            site.db, claim.address, how=how, list_name=claim.list, now=site.clock()
        )
        log.info(
            "subscriber_unsubscribed",
            subscriber=claim.address,
            how=how,
            changed=done.changed,
            cancelled=done.cancelled,
        )
        return HTMLResponse(done_page(claim.address, done.changed), headers=_HEADERS)

    async def subscriber_feed(request: Request) -> Response:
        claim = _claim(site, request, FEED)
        if isinstance(claim, Response):
            return claim
        config = site.config()
        subscriber = config.subscriber(claim.address)
        if subscriber is None or claim.address in await optouts.opted_out(site.db, [claim.address]):
            return _refused(404, "this feed's subscriber is no longer subscribed")
        key = hashlib.sha256(claim.address.encode()).hexdigest()[:16]
        title = f"Supply Watcher signals for {claim.address}"
        return await _feed(site, request, title, f"subscriber/{key}", subscriber)

    async def filter_feed(request: Request) -> Response:
        name = request.path_params["name"]
        wanted = site.config().public.feeds.get(name)
        if wanted is None:
            return _refused(404, f"there is no feed named {name!r}")
        return await _feed(site, request, f"Supply Watcher signals: {name}", name, wanted)

    return Starlette(
        routes=[
            Route(UNSUBSCRIBE_PATH, unsubscribe, methods=["GET", "POST"]),
            Route(SUBSCRIBER_FEED_PATH, subscriber_feed, methods=["GET"]),
            Route("/feeds/{name}.atom", filter_feed, methods=["GET"]),
        ]
    )


async def _feed(
    site: Site, request: Request, title: str, name: str, wanted: SignalFilter
) -> Response:
    config = site.config()
    entries = await signals_for_feed(site.db, config, wanted, config.public.feed_entries)
    body = render_feed(
        entries,
        config,
        title=title,
        feed_id=feed_tag(config, name),
        self_url=_public_url(config, request),
        now=site.clock(),
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers=_HEADERS)


def _claim(site: Site, request: Request, purpose: str) -> Claim | Response:
    """The valid token's claim, or the refusal to answer with."""
    token = request.query_params.get("token")
    if not token:
        return _refused(400, "this link has no token")
    tokens = Tokens.of(site.config().public)
    if tokens is None:
        return _refused(503, "signed links are not configured on this server")
    try:
        return tokens.check(token, purpose, site.clock())
    except TokenError as exc:
        log.warning("token_refused", purpose=purpose, reason=str(exc))
        return _refused(403, str(exc))


def _public_url(config: WatcherConfig, request: Request) -> str:
    """The URL readers use for this request: under `public.base_url` behind a proxy."""
    if not config.public.base_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{config.public.base_url.rstrip('/')}{request.url.path}{query}"


async def _small_body(request: Request) -> bytes | None:
    """The body, read up to `MAX_FORM_BYTES`; None when it is longer (nothing more is read)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return body


def _refused(status: int, reason: str) -> Response:
    return HTMLResponse(refused_page(reason), status_code=status, headers=_HEADERS)
