"""The one HTTP client every source shares, with the limits that keep it polite and bounded.

- concurrency: at most `http.max_connections` requests in flight, `http.per_host` per host;
  the connections are spread over several small pools (`ShardedTransport`), because
  httpcore's pool does bookkeeping quadratic in its size on every request;
- time: connect and read timeouts per socket operation, plus one overall deadline per
  request (redirects, headers and the whole body), so a server dripping one byte a
  second cannot hold a poll open;
- size: the decoded body is capped while it streams (`watcher.sources.inflate`);
- redirects: followed by hand, at most `http.max_redirects`, only to http/https;
- addresses: links taken from feeds (`untrusted=True`) connect only to public addresses
  or those in `http.allow_internal`, on every hop (`watcher.sources.guard`);
- conditional GET: `If-None-Match` / `If-Modified-Since` from the stored validators.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from watcher.config import HttpConfig
from watcher.domain.errors import FetchError, LinkRefused
from watcher.sources.guard import AddressPolicy, GuardedTransport, RefusedAddress
from watcher.sources.inflate import BodyTooLarge, BoundedDecoder, UnsupportedEncoding
from watcher.sources.result import Validators

SHARD_CONNECTIONS = 10
REDIRECTS = {301, 302, 303, 307, 308}
THROTTLED = {429, 503}
NO_VALIDATORS = Validators()


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A final answer: status 200-299 with its decoded body, or 304 with no body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        """True for 304 Not Modified."""
        return self.status == 304

    @property
    def validators(self) -> Validators:
        """The ETag / Last-Modified to send next time."""
        return Validators(
            etag=self.headers.get("etag"), last_modified=self.headers.get("last-modified")
        )

    @property
    def max_age(self) -> timedelta | None:
        """`Cache-Control: max-age` (RFC 9111 §5.2.2.1), when the server gave one."""
        for directive in self.headers.get("cache-control", "").split(","):
            name, _, value = directive.strip().partition("=")
            if name.lower() == "max-age" and value.strip().strip('"').isdigit():
                return timedelta(seconds=int(value.strip().strip('"')))
        return None


class Fetcher:
    """GETs URLs for sources under the configured limits; one per running watcher."""

    def __init__(self, config: HttpConfig, user_agent: str) -> None:
        self.config = config
        headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
        timeout = httpx.Timeout(
            config.read_timeout.total_seconds(),
            connect=config.connect_timeout.total_seconds(),
            pool=config.timeout.total_seconds(),
        )
        limits = httpx.Limits(
            max_connections=config.max_connections,
            max_keepalive_connections=config.max_connections,
        )
        tls = httpx.create_ssl_context()  # one CA bundle load (tens of ms) for both clients
        self.client = httpx.AsyncClient(
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
            transport=ShardedTransport(config.max_connections, tls=tls),
            # for the proxy transports httpx mounts from HTTP(S)_PROXY (not sharded)
            limits=limits,
        )
        # links from feeds: every connection passes the address guard; no proxy, whose
        # address would be the one checked instead of the host's
        self.untrusted = httpx.AsyncClient(
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            transport=GuardedTransport(
                AddressPolicy.of(config.allow_internal),
                config.max_connections,
                tls,
            ),
        )
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self.client.aclose()
        await self.untrusted.aclose()

    async def get(
        self,
        url: str,
        source: str,
        validators: Validators = NO_VALIDATORS,
        accept: str = "*/*",
        *,
        untrusted: bool = False,
    ) -> HttpResult:
        """The final answer for `url` (200-299 or 304); `FetchError` for anything else.

        `untrusted` for a URL a document chose (an item's link): it and every redirect
        hop may connect only to public addresses or `http.allow_internal`, else
        `LinkRefused` (nothing was sent to the refused address).
        """
        deadline = self.config.timeout.total_seconds()
        client = self.untrusted if untrusted else self.client
        try:
            async with asyncio.timeout(deadline):
                return await self._follow(client, url, source, _conditional(validators, accept))
        except TimeoutError:
            raise FetchError(
                source, f"no complete answer from {url} within {deadline:g}s (overall deadline)"
            ) from None
        except RefusedAddress as exc:
            raise LinkRefused(
                source,
                f"refused to fetch {url}: {exc} (add the host or network to"
                " http.allow_internal to allow it)",
            ) from None
        except httpx.HTTPError as exc:
            raise FetchError(source, f"{type(exc).__name__} for {url}: {exc}") from None

    async def _follow(
        self, client: httpx.AsyncClient, url: str, source: str, headers: dict[str, str]
    ) -> HttpResult:
        current = url
        for _ in range(self.config.max_redirects + 1):
            scheme = urlsplit(current).scheme.lower()
            if scheme not in ("http", "https"):
                raise FetchError(
                    source, f"refused to follow a redirect to {current!r} (not http/https)"
                )
            async with (
                self._slot(current),
                client.stream("GET", current, headers=headers) as response,
            ):
                if response.status_code in REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                return await self._answer(response, source)
        raise FetchError(
            source, f"more than {self.config.max_redirects} redirects from {url} (a loop?)"
        )

    async def _answer(self, response: httpx.Response, source: str) -> HttpResult:
        url = str(response.url)
        headers = {k.lower(): v for k, v in response.headers.items()}
        status = response.status_code
        if status == 304:
            # a 304 has no body (RFC 9110 §15.4.5); reading the empty rest lets httpcore
            # keep the connection for the next poll instead of closing it
            await response.aread()
            return HttpResult(url=url, status=304, headers=headers)
        if status in THROTTLED:
            wait = retry_after(headers.get("retry-after"), datetime.now(UTC))
            hint = f"; Retry-After {int(wait.total_seconds())}s" if wait else ""
            raise FetchError(source, f"HTTP {status} from {url}{hint}", retry_after=wait)
        if not 200 <= status < 300:
            raise FetchError(source, f"HTTP {status} from {url}")
        body = await self._read(response, source, url, headers.get("content-encoding", ""))
        return HttpResult(url=url, status=status, headers=headers, body=body)

    async def _read(self, response: httpx.Response, source: str, url: str, coding: str) -> bytes:
        limit = self.config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and not coding and int(declared) > limit:
            raise FetchError(source, f"body of {url} is {declared} bytes, over the {limit} cap")
        try:
            decoder = BoundedDecoder(coding, limit)
            body = bytearray()
            async for raw in response.aiter_raw():
                body += decoder.feed(raw)
        except BodyTooLarge:
            raise FetchError(
                source, f"body of {url} exceeds {limit} bytes once decoded; not read further"
            ) from None
        except UnsupportedEncoding:
            raise FetchError(source, f"{url} sent Content-Encoding {coding!r}") from None
        except ValueError as exc:
            raise FetchError(source, f"{url}: {exc}") from None
        return bytes(body)

    @asynccontextmanager
    async def _slot(self, url: str) -> AsyncIterator[None]:
        """Hold one of the host's `per_host` slots while a request to it runs."""
        host = (urlsplit(url).hostname or "").lower()
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = asyncio.Semaphore(self.config.per_host)
        async with gate:
            yield


class ShardedTransport(httpx.AsyncBaseTransport):
    """At most `max_connections` requests in flight, over pools of ≤ `SHARD_CONNECTIONS` each.

    httpcore's pool walks all its connections, and for each idle one all of them again
    (with a `getpeername`/`poll` per idle connection), every time a request starts or
    ends: at 100 connections that is ~8 ms of CPU per request, far more than the request.
    Splitting the same limit over pools of ten keeps that walk short. The pools' sizes
    add up to `max_connections`, so no more connections are ever open than before; a
    request holds a slot of its pool from the moment it is sent until its response is
    closed (or it fails), and waits for a free slot when all are taken. A request goes
    to its host's home pool (so keep-alive connections get reused) unless that one is
    full, then to the pool with the most free slots.
    """

    def __init__(
        self,
        max_connections: int,
        *,
        shard_size: int = SHARD_CONNECTIONS,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        count = -(-max_connections // shard_size)
        self.sizes = [
            max_connections // count + (1 if index < max_connections % count else 0)
            for index in range(count)
        ]
        tls = tls or httpx.create_ssl_context()  # loading the CA bundle takes 20 ms: once
        self._pools = [_pool(size, tls) for size in self.sizes]
        self._busy = [0] * count
        self._slots = asyncio.Semaphore(max_connections)

    @property
    def in_flight(self) -> int:
        """Requests holding a slot now (sent, and their response not yet closed)."""
        return sum(self._busy)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` on a pool with a free slot; the slot is held until the response closes."""
        await self._slots.acquire()
        index = self._pick(request.url.host)
        self._busy[index] += 1
        release = _Once(lambda: self._release(index))
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(stream, release),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close every pool's connections."""
        for pool in self._pools:
            await pool.aclose()

    def _pick(self, host: str) -> int:
        home = zlib.crc32(host.encode()) % len(self._pools)
        if self._busy[home] < self.sizes[home]:
            return home
        free = [size - busy for size, busy in zip(self.sizes, self._busy, strict=True)]
        return free.index(max(free))

    def _release(self, index: int) -> None:
        self._busy[index] -= 1
        self._slots.release()


def _pool(size: int, tls: ssl.SSLContext) -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(
        verify=tls, limits=httpx.Limits(max_connections=size, max_keepalive_connections=size)
    )


class _Once:
    """Calls `action` on the first call only."""

    def __init__(self, action: Callable[[], None]) -> None:
        self._action: Callable[[], None] | None = action

    def __call__(self) -> None:
        action, self._action = self._action, None
        if action is not None:
            action()


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its transport slot back when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release: _Once) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


def _conditional(validators: Validators, accept: str) -> dict[str, str]:
    headers = {"Accept": accept}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as a delay: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - now)
