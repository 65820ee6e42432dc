"""The one HTTP client every source shares, with the limits that keep it polite and bounded.

Built on aiohttp (its CPU per request is a tenth of httpx's: `python -m bench.http_clients`):

- concurrency: at most `http.max_connections` requests in flight (the connector's
  limit: a request holds its connection until its response is released), `http.per_host`
  per host name;
- time: connect and read timeouts per socket operation, plus one overall deadline per
  request (redirects, headers and the whole body), so a server dripping one byte a
  second cannot hold a poll open;
- size: the decoded body is capped while it streams (`watcher.sources.inflate`; aiohttp's
  own decompression is off);
- redirects: followed by hand, at most `http.max_redirects`, only to http/https;
- addresses: links taken from feeds (`untrusted=True`) connect only to public addresses
  or those in `http.allow_internal`, on every hop (`watcher.sources.guard`), never
  through a proxy; configured URLs honour HTTP(S)_PROXY / NO_PROXY;
- conditional GET: `If-None-Match` / `If-Modified-Since` from the stored validators;
- TLS: aiohttp's one verifying context (the system's CA store, loaded before the first
  TLS connection: `watcher.sources.tls`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from yarl import URL

from watcher.config import HttpConfig
from watcher.domain.errors import FetchError, LinkRefused
from watcher.sources.guard import AddressPolicy, GuardedConnector, RefusedAddress
from watcher.sources.inflate import BodyTooLarge, BoundedDecoder, UnsupportedEncoding
from watcher.sources.result import Validators
from watcher.sources.tls import CaOnDemandConnector

REDIRECTS = {301, 302, 303, 307, 308}
THROTTLED = {429, 503}
NO_VALIDATORS = Validators()
KEEPALIVE = 5.0  # seconds an idle connection is kept for the next request
MAX_FIELD_SIZE = 16 * 1024  # one response header line (a long Link or Set-Cookie passes)


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
    """GETs URLs for sources under the configured limits; one per running watcher.

    Its two sessions (configured URLs; untrusted links) are made on first use, on the
    running event loop, and closed by `aclose`.
    """

    def __init__(self, config: HttpConfig, user_agent: str) -> None:
        self.config = config
        self.headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
        self.timeout = aiohttp.ClientTimeout(
            total=None,  # the overall deadline is `get`'s own
            sock_connect=config.connect_timeout.total_seconds(),
            sock_read=config.read_timeout.total_seconds(),
        )
        self._client: aiohttp.ClientSession | None = None
        self._untrusted: aiohttp.ClientSession | None = None
        self._proxies = EnvProxies()
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Requests under way: waiting for a slot, sent, or reading; 0 once all are released."""
        return self._in_flight

    @property
    def client(self) -> aiohttp.ClientSession:
        """The session for configured URLs (HTTP(S)_PROXY honoured)."""
        if self._client is None:
            connector = CaOnDemandConnector(
                limit=self.config.max_connections, limit_per_host=0, keepalive_timeout=KEEPALIVE
            )
            self._client = self._session(connector)
        return self._client

    @property
    def untrusted(self) -> aiohttp.ClientSession:
        """The session for links from documents: address-guarded, no proxy."""
        if self._untrusted is None:
            policy = AddressPolicy.of(self.config.allow_internal)
            connector = GuardedConnector(policy, self.config.max_connections, KEEPALIVE)
            self._untrusted = self._session(connector)
        return self._untrusted

    def _session(self, connector: aiohttp.BaseConnector) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=connector,
            headers=self.headers,
            timeout=self.timeout,
            auto_decompress=False,  # `BoundedDecoder` inflates under the cap
            # proxies come from `EnvProxies`, read once; aiohttp's own `trust_env` reads
            # the environment and ~/.netrc in a thread on every request
            trust_env=False,
            max_field_size=MAX_FIELD_SIZE,
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        for session in (self._client, self._untrusted):
            if session is not None:
                await session.close()
        self._client = self._untrusted = None

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
        session = self.untrusted if untrusted else self.client
        # no proxy for untrusted links: its address would be the one checked, not the host's
        proxies = None if untrusted else self._proxies
        headers = _conditional(validators, accept)
        try:
            async with asyncio.timeout(deadline):
                return await self._follow(session, url, source, headers, proxies)
        except RefusedAddress as exc:
            raise LinkRefused(
                source,
                f"refused to fetch {url}: {exc} (add the host or network to"
                " http.allow_internal to allow it)",
            ) from None
        except (aiohttp.ClientError, ValueError) as exc:
            # before TimeoutError: aiohttp's socket timeouts are TimeoutErrors too
            raise FetchError(source, f"{type(exc).__name__} for {url}: {exc}") from None
        except TimeoutError:
            raise FetchError(
                source, f"no complete answer from {url} within {deadline:g}s (overall deadline)"
            ) from None

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        url: str,
        source: str,
        headers: dict[str, str],
        proxies: EnvProxies | None,
    ) -> HttpResult:
        current = url
        for _ in range(self.config.max_redirects + 1):
            scheme = urlsplit(current).scheme.lower()
            if scheme not in ("http", "https"):
                raise FetchError(
                    source, f"refused to follow a redirect to {current!r} (not http/https)"
                )
            target = as_url(current)
            proxy, proxy_auth = proxies.for_url(target) if proxies is not None else (None, None)
            self._in_flight += 1
            try:
                async with (
                    self._slot(current),
                    session.get(
                        target,
                        headers=headers,
                        allow_redirects=False,
                        proxy=proxy,
                        proxy_auth=proxy_auth,
                    ) as response,
                ):
                    location = response.headers.get("location")
                    if response.status in REDIRECTS and location is not None:
                        current = urljoin(current, location)
                        continue
                    return await self._answer(response, source)
            finally:
                self._in_flight -= 1
        raise FetchError(
            source, f"more than {self.config.max_redirects} redirects from {url} (a loop?)"
        )

    async def _answer(self, response: aiohttp.ClientResponse, source: str) -> HttpResult:
        url = str(response.url)
        headers = _headers(response)
        status = response.status
        if status == 304:
            # a 304 has no body (RFC 9110 §15.4.5): the connection goes back to the pool
            return HttpResult(url=url, status=304, headers=headers)
        if status in THROTTLED:
            wait = retry_after(headers.get("retry-after"), datetime.now(UTC))
            hint = f"; Retry-After {int(wait.total_seconds())}s" if wait else ""
            raise FetchError(source, f"HTTP {status} from {url}{hint}", retry_after=wait)
        if not 200 <= status < 300:
            raise FetchError(source, f"HTTP {status} from {url}")
        body = await self._read(response, source, url, headers.get("content-encoding", ""))
        return HttpResult(url=url, status=status, headers=headers, body=body)

    async def _read(
        self, response: aiohttp.ClientResponse, source: str, url: str, coding: str
    ) -> bytes:
        limit = self.config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and not coding and int(declared) > limit:
            raise FetchError(source, f"body of {url} is {declared} bytes, over the {limit} cap")
        try:
            decoder = BoundedDecoder(coding, limit)
            body = bytearray()
            async for raw in response.content.iter_any():
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


class EnvProxies:
    """HTTP_PROXY / HTTPS_PROXY / ALL_PROXY from the environment, and NO_PROXY's exemptions.

    The proxies are read once, when made (as httpx's `trust_env` did); a URL whose scheme
    has one, and whose host NO_PROXY does not exempt, goes through it; credentials in the
    proxy's URL are sent as Basic proxy authorization. With no proxy set, nothing is
    looked up per request.
    """

    def __init__(self) -> None:
        found = getproxies()
        self._proxies = {k: v for k, v in found.items() if k in ("http", "https", "all")}
        self._any = bool(self._proxies)

    def for_url(self, url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The proxy for `url` and its credentials; `(None, None)` to connect directly."""
        if not self._any:
            return None, None
        proxy = self._proxies.get(url.scheme) or self._proxies.get("all")
        if not proxy or (url.host and proxy_bypass(url.host)):
            return None, None
        address = URL(proxy)
        return address.with_user(None), aiohttp.BasicAuth.from_url(address)


def as_url(url: str) -> URL:
    """`url` to request: sent as written when it is already a valid ASCII URL.

    yarl would otherwise re-quote it (`%7E` becomes `~`, a query's `%20` a `+`), and a
    server that signs or compares its URLs byte for byte would see another one. A URL
    with spaces, non-ASCII characters or a Unicode host is quoted by yarl.
    """
    if url.isascii() and url.isprintable() and " " not in url:
        return URL(url, encoded=True)
    return URL(url)


def _headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    """The response's headers by lower-case name; a repeated one joined with ", "."""
    headers: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


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
