"""The shared HTTP fetcher against a real local server: limits, redirects, conditional GET."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import zlib
from datetime import timedelta

import pytest

from tests.servers import FeedServer, Route
from watcher.config import HttpConfig
from watcher.domain.errors import FetchError
from watcher.sources.http import Fetcher, retry_after
from watcher.sources.result import Validators

UA = "SupplyWatcher/0.1 (+https://example.org; mailto:ops@example.org)"


def _fetcher(**limits: object) -> Fetcher:
    return Fetcher(HttpConfig.model_validate(limits), UA)


def _gzip_bomb(decoded_mb: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * 1_000_000
    return b"".join(packer.compress(zeros) for _ in range(decoded_mb)) + packer.flush()


async def test_a_slow_drip_server_is_cut_off_at_the_overall_deadline(
    feed_server: FeedServer,
) -> None:
    """A server sending one byte every 0.2 s (never idle long enough for the read timeout)."""
    feed_server.routes["/drip"] = Route(b"<rss>" + b" " * 1000 + b"</rss>", drip=0.2)
    fetcher = _fetcher(timeout="1s", read_timeout="5s")
    started = time.monotonic()
    with pytest.raises(FetchError, match="overall deadline"):
        await fetcher.get(feed_server.url("/drip"), "drip")
    assert time.monotonic() - started < 3
    await fetcher.aclose()


async def test_a_gzip_bomb_is_cut_off_without_the_memory_growing(feed_server: FeedServer) -> None:
    """200 MB of zeros in 200 kB of gzip: reading stops at the 1 MB cap, memory stays small."""
    bomb = _gzip_bomb(200)
    assert len(bomb) < 1_000_000
    feed_server.routes["/bomb"] = Route(bomb, headers={"Content-Encoding": "gzip"})
    fetcher = _fetcher(max_bytes=1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="exceeds 1000000 bytes"):
            await fetcher.get(feed_server.url("/bomb"), "bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000, f"peak {peak} bytes while reading a capped body"
    await fetcher.aclose()


async def test_gzip_and_deflate_bodies_are_decoded(feed_server: FeedServer) -> None:
    """Compressed answers arrive decoded; concatenated gzip members are all read."""
    member = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = member.compress(b"<rss>one ") + member.flush()
    member = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    second = member.compress(b"two</rss>") + member.flush()
    feed_server.routes["/gz"] = Route(first + second, headers={"Content-Encoding": "gzip"})
    feed_server.routes["/zz"] = Route(
        zlib.compress(b"<rss>zlib</rss>"), headers={"Content-Encoding": "deflate"}
    )
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    feed_server.routes["/raw"] = Route(
        raw.compress(b"<rss>raw</rss>") + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    fetcher = _fetcher()
    assert (await fetcher.get(feed_server.url("/gz"), "gz")).body == b"<rss>one two</rss>"
    assert (await fetcher.get(feed_server.url("/zz"), "zz")).body == b"<rss>zlib</rss>"
    assert (await fetcher.get(feed_server.url("/raw"), "raw")).body == b"<rss>raw</rss>"
    await fetcher.aclose()


async def test_a_plain_body_over_the_cap_is_refused(feed_server: FeedServer) -> None:
    """An uncompressed body larger than `max_bytes` fails without being read."""
    feed_server.routes["/big"] = Route(b"x" * 50_000)
    fetcher = _fetcher(max_bytes=10_000)
    with pytest.raises(FetchError, match="over the 10000 cap"):
        await fetcher.get(feed_server.url("/big"), "big")
    await fetcher.aclose()


async def test_a_redirect_loop_stops_after_five_hops(feed_server: FeedServer) -> None:
    """/loop → /loop → …: six requests, then a FetchError naming the loop."""
    feed_server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    fetcher = _fetcher()
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await fetcher.get(feed_server.url("/loop"), "loop")
    assert [path for path, _ in feed_server.requests] == ["/loop"] * 6
    await fetcher.aclose()


async def test_redirects_are_followed_only_to_http(feed_server: FeedServer) -> None:
    """A relative redirect is followed; one to file:// is refused and nothing is opened."""
    feed_server.routes["/old"] = Route(status=301, headers={"Location": "/new"})
    feed_server.routes["/new"] = Route(b"<rss/>")
    feed_server.routes["/evil"] = Route(status=302, headers={"Location": "file:///etc/passwd"})
    fetcher = _fetcher()
    answer = await fetcher.get(feed_server.url("/old"), "moved")
    assert answer.body == b"<rss/>"
    assert answer.url.endswith("/new")
    with pytest.raises(FetchError, match="not http/https"):
        await fetcher.get(feed_server.url("/evil"), "evil")
    await fetcher.aclose()


async def test_429_carries_the_servers_retry_after(feed_server: FeedServer) -> None:
    """429 and 503 become a FetchError whose `retry_after` is the server's wish."""
    feed_server.routes["/busy"] = Route(status=429, headers={"Retry-After": "120"})
    feed_server.routes["/down"] = Route(status=503, headers={})
    fetcher = _fetcher()
    with pytest.raises(FetchError) as busy:
        await fetcher.get(feed_server.url("/busy"), "busy")
    assert busy.value.retry_after == timedelta(seconds=120)
    assert "HTTP 429" in str(busy.value)
    with pytest.raises(FetchError) as down:
        await fetcher.get(feed_server.url("/down"), "down")
    assert down.value.retry_after is None
    await fetcher.aclose()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    """`Retry-After: 30` and an HTTP-date both become a delay; garbage is none."""
    from datetime import UTC, datetime

    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert retry_after("30", now) == timedelta(seconds=30)
    assert retry_after("Thu, 26 Nov 2026 12:10:00 GMT", now) == timedelta(minutes=10)
    assert retry_after("soon", now) is None
    assert retry_after("Thu, 26 Nov 2026 11:00:00 GMT", now) == timedelta(0)


async def test_conditional_get_sends_validators_and_gets_304(feed_server: FeedServer) -> None:
    """Stored ETag / Last-Modified go out as If-None-Match / If-Modified-Since; 304 is no body."""
    feed_server.routes["/e"] = Route(b"<rss/>", headers={"ETag": '"v1"'})
    feed_server.routes["/m"] = Route(
        b"<rss/>", headers={"Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT"}
    )
    fetcher = _fetcher()
    first = await fetcher.get(feed_server.url("/e"), "e")
    assert first.validators == Validators(etag='"v1"')
    again = await fetcher.get(feed_server.url("/e"), "e", first.validators)
    assert again.not_modified
    assert feed_server.requests[-1][1]["If-None-Match"] == '"v1"'
    dated = await fetcher.get(feed_server.url("/m"), "m")
    assert (await fetcher.get(feed_server.url("/m"), "m", dated.validators)).not_modified
    await fetcher.aclose()


async def test_requests_carry_the_user_agent_and_cache_hints(feed_server: FeedServer) -> None:
    """The User-Agent names the contact address; Cache-Control max-age is read."""
    feed_server.routes["/f"] = Route(b"<rss/>", headers={"Cache-Control": "public, max-age=900"})
    fetcher = _fetcher()
    answer = await fetcher.get(feed_server.url("/f"), "f")
    assert feed_server.requests[-1][1]["User-Agent"] == UA
    assert answer.max_age == timedelta(minutes=15)
    await fetcher.aclose()


async def test_at_most_two_requests_run_against_one_host(feed_server: FeedServer) -> None:
    """Six parallel fetches to one host: never more than `per_host` (2) at once."""
    feed_server.routes["/slow"] = Route(b"<rss/>", drip=0.05)
    fetcher = _fetcher()
    await asyncio.gather(*(fetcher.get(feed_server.url("/slow"), "s") for _ in range(6)))
    assert feed_server.max_active == 2
    await fetcher.aclose()


async def test_the_global_limit_holds(feed_server: FeedServer) -> None:
    """12 connections: 40 parallel fetches use more than half of them, never more than 12."""
    feed_server.routes["/slow"] = Route(b"<rss/>", delay=0.2)
    fetcher = _fetcher(max_connections=12, per_host=100)
    answers = await asyncio.gather(*(fetcher.get(feed_server.url("/slow"), "s") for _ in range(40)))
    assert all(a.body == b"<rss/>" for a in answers)
    assert 6 < feed_server.max_active <= 12  # the limit was used, and held
    assert fetcher.in_flight == 0
    await fetcher.aclose()


async def test_failed_and_cut_off_requests_give_their_slots_back(feed_server: FeedServer) -> None:
    """Errors, refused statuses and deadline cut-offs all free their slot: nothing leaks."""
    feed_server.routes["/drip"] = Route(b"<rss>" + b" " * 200 + b"</rss>", drip=0.05)
    feed_server.routes["/gone"] = Route(status=410, headers={})
    feed_server.routes["/ok"] = Route(b"<rss/>")
    fetcher = _fetcher(max_connections=3, per_host=3, timeout="1s")
    for _ in range(2):
        outcomes = await asyncio.gather(
            *(fetcher.get(feed_server.url(path), path) for path in ["/drip", "/gone"] * 3),
            return_exceptions=True,
        )
        assert all(isinstance(o, FetchError) for o in outcomes)
    assert fetcher.in_flight == 0
    answers = await asyncio.gather(*(fetcher.get(feed_server.url("/ok"), "ok") for _ in range(9)))
    assert [a.body for a in answers] == [b"<rss/>"] * 9
    await fetcher.aclose()


async def test_configured_urls_use_the_environments_proxy_and_links_never_do(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY carries a configured feed's request; an article link connects directly."""
    for name in ("http", "https", "all", "no"):
        monkeypatch.delenv(f"{name}_proxy", raising=False)
        monkeypatch.delenv(f"{name.upper()}_PROXY", raising=False)
    proxy = FeedServer().start()
    try:
        proxy.routes["http://feeds.example/feed"] = Route(b"<rss>via the proxy</rss>")
        monkeypatch.setenv("http_proxy", f"http://{proxy.host}:{proxy.port}")
        feed_server.routes["/article"] = Route(b"<p>direct</p>")
        fetcher = _fetcher(allow_internal=["127.0.0.1"])
        answer = await fetcher.get("http://feeds.example/feed", "f")
        assert answer.body == b"<rss>via the proxy</rss>"
        link = await fetcher.get(feed_server.url("/article"), "f", untrusted=True)
        assert link.body == b"<p>direct</p>"
        assert [path for path, _ in proxy.requests] == ["http://feeds.example/feed"]
        assert [path for path, _ in feed_server.requests] == ["/article"]
        await fetcher.aclose()
    finally:
        proxy.stop()


async def test_a_url_is_sent_as_written_and_a_unicode_one_is_quoted(
    feed_server: FeedServer,
) -> None:
    """Escapes stay as the feed wrote them (`%7E`, `%20`); non-ASCII is percent-encoded."""
    feed_server.routes["/a%7Eb?q=%20x"] = Route(b"<rss>escaped</rss>")
    feed_server.routes["/caf%C3%A9"] = Route(b"<rss>quoted</rss>")
    fetcher = _fetcher()
    assert (await fetcher.get(feed_server.url("/a%7Eb?q=%20x"), "e")).body == b"<rss>escaped</rss>"
    assert (await fetcher.get(feed_server.url("/café"), "u")).body == b"<rss>quoted</rss>"
    assert [path for path, _ in feed_server.requests] == ["/a%7Eb?q=%20x", "/caf%C3%A9"]
    await fetcher.aclose()
