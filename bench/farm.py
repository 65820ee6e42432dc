"""A local feed farm: N synthetic RSS feeds on 127.0.0.1, served by asyncio streams + h11.

Each feed `/feeds/<i>.xml` lists its newest M items (see `bench.textgen`), carries an
ETag and a Last-Modified, and answers a matching conditional GET with 304 (RFC 9110
§13.1: If-None-Match wins over If-Modified-Since). Every feed request waits the
configured latency with `asyncio.sleep` before the answer, so a thousand requests in
flight cost one event loop nothing but timers. HTTP/1.1 keep-alive is supported.

Control endpoints (never delayed, never counted):

    GET  /_farm/stats              counters as JSON (requests, 200s, 304s, bytes, ...)
    POST /_farm/reset              zero the counters
    POST /_farm/publish?k=2        K new items at the head of every feed (signal items
                                   unless `&signal=mix`)
    POST /_farm/churn?k=1          from now on every feed GET first publishes K items
                                   into that feed (k=0 turns it off)

Run it on its own (`python -m bench.farm --n 1000 --latency-ms 100`): it prints one JSON
line with its port and the digest of its documents, then serves until SIGTERM/SIGINT or
until its stdin closes. The farm only ever binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import h11

from bench.feeds import (
    Entry,
    FarmSpec,
    documents_digest,
    http_date,
    initial_entries,
    render_feed,
    write_documents,
)

HOST = "127.0.0.1"
MAX_HEADER_BYTES = 64 * 1024


@dataclass(slots=True)
class Counters:
    """What the farm saw since the last reset; bytes are on the wire, headers included."""

    requests: int = 0
    ok: int = 0
    not_modified: int = 0
    not_found: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0


@dataclass(slots=True)
class _Feed:
    number: int
    entries: list[Entry]
    next_index: int
    version: int = 0
    modified: int = 0
    body: bytes = b""
    body_gzip: bytes | None = None
    etag: str = ""
    last_modified: str = ""


class FeedFarm:
    """The farm's state and its HTTP server; `await start()`, then `url(i)`, `await stop()`."""

    def __init__(self, spec: FarmSpec) -> None:
        self.spec = spec
        self.counters = Counters()
        self.churn = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: dict[asyncio.Task[None] | None, asyncio.StreamWriter] = {}
        self._feeds = [
            _Feed(number=i, entries=initial_entries(spec, i), next_index=spec.m)
            for i in range(spec.n)
        ]
        for feed in self._feeds:
            self._render(feed, modified=spec.epoch)
        self.digest = documents_digest(feed.body for feed in self._feeds)

    # --- state -----------------------------------------------------------------------

    def url(self, number: int) -> str:
        """The URL of feed `number`."""
        return f"http://{HOST}:{self.port}/feeds/{number}.xml"

    def publish(self, k: int, *, signal: bool | None = True) -> int:
        """Put K new items at the head of every feed; returns how many were published."""
        now = int(time.time())
        for feed in self._feeds:
            self._publish_into(feed, k, signal, now)
        return k * len(self._feeds)

    def _publish_into(self, feed: _Feed, k: int, signal: bool | None, now: int) -> None:
        fresh = [Entry(index=feed.next_index + j, published=now, signal=signal) for j in range(k)]
        feed.next_index += k
        feed.entries = (list(reversed(fresh)) + feed.entries)[: self.spec.m]
        self._render(feed, modified=now)

    def _render(self, feed: _Feed, *, modified: int) -> None:
        feed.version += 1
        feed.modified = modified
        feed.body = render_feed(self.spec, feed.number, feed.entries)
        feed.body_gzip = gzip.compress(feed.body, 6) if self.spec.gzip else None
        feed.etag = f'"f{feed.number}-v{feed.version}"'
        feed.last_modified = http_date(modified)

    def documents(self) -> list[bytes]:
        """Every feed's current document."""
        return [feed.body for feed in self._feeds]

    def reset(self) -> None:
        """Zero the counters (keeps `in_flight`, which counts live requests)."""
        in_flight = self.counters.in_flight
        self.counters = Counters(in_flight=in_flight, max_in_flight=in_flight)

    # --- server ----------------------------------------------------------------------

    async def start(self, port: int = 0) -> FeedFarm:
        """Listen on 127.0.0.1:`port` (0: any free port)."""
        self._server = await asyncio.start_server(
            self._serve, HOST, port, backlog=4096, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        """Close the listening socket, then every open connection, and wait for their handlers."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # closing a transport ends its handler's read with EOF: each handler finishes itself
        for writer in list(self._handlers.values()):
            writer.close()
        tasks = {task for task in self._handlers if task is not None}
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._handlers[task] = writer
        try:
            await self._converse(reader, writer)
        finally:
            self._handlers.pop(task, None)

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read requests and answer them on one connection until either side closes it."""
        self.counters.connections += 1
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        request: h11.Request | None = None
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    self.counters.bytes_in += len(data)
                    conn.receive_data(data)
                    continue
                if isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.EndOfMessage) and request is not None:
                    await self._answer(conn, writer, request)
                    request = None
                    if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                        break
                    conn.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                    break
        except (h11.RemoteProtocolError, h11.LocalProtocolError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _answer(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, request: h11.Request
    ) -> None:
        target = urlsplit(request.target.decode("ascii", "replace"))
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in request.headers}
        if target.path.startswith("/_farm/"):
            status, body, extra = self._control(request.method, target.path, target.query)
            await self._send(
                conn, writer, status, body, [("content-type", "application/json"), *extra]
            )
            return
        counters = self.counters
        counters.requests += 1
        counters.in_flight += 1
        counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
        try:
            if self.spec.latency:
                await asyncio.sleep(self.spec.latency)
            feed = self._feed_for(target.path)
            if feed is None or request.method not in (b"GET", b"HEAD"):
                counters.not_found += 1
                await self._send(conn, writer, 404, b"not found\n", [])
                return
            if self.churn:
                self._publish_into(feed, self.churn, None, int(time.time()))
            validators = [("etag", feed.etag), ("last-modified", feed.last_modified)]
            if _not_modified(headers, feed):
                counters.not_modified += 1
                await self._send(conn, writer, 304, b"", validators)
                return
            counters.ok += 1
            body = feed.body
            extra = [("content-type", "application/rss+xml; charset=utf-8"), *validators]
            if feed.body_gzip is not None and "gzip" in headers.get("accept-encoding", ""):
                body = feed.body_gzip
                extra.append(("content-encoding", "gzip"))
            await self._send(conn, writer, 200, body, extra, head=request.method == b"HEAD")
        finally:
            counters.in_flight -= 1

    async def _send(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]],
        *,
        head: bool = False,
    ) -> None:
        if status != 304:
            headers = [*headers, ("content-length", str(len(body)))]
        response = h11.Response(
            status_code=status, headers=headers, reason=HTTPStatus(status).phrase
        )
        wire = conn.send(response) or b""
        if body and not head:
            wire += conn.send(h11.Data(data=body)) or b""
        wire += conn.send(h11.EndOfMessage()) or b""
        self.counters.bytes_out += len(wire)
        writer.write(wire)
        await writer.drain()

    def _feed_for(self, path: str) -> _Feed | None:
        if not (path.startswith("/feeds/") and path.endswith(".xml")):
            return None
        number = path[len("/feeds/") : -len(".xml")]
        if not number.isdigit() or int(number) >= len(self._feeds):
            return None
        return self._feeds[int(number)]

    def _control(
        self, method: bytes, path: str, query: str
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        answer: dict[str, object]
        if path == "/_farm/stats" and method == b"GET":
            answer = {"counters": asdict(self.counters), "digest": self.digest, "n": self.spec.n}
        elif path == "/_farm/reset" and method == b"POST":
            self.reset()
            answer = {"reset": True}
        elif path == "/_farm/publish" and method == b"POST":
            signal = None if params.get("signal") == "mix" else True
            answer = {"published": self.publish(int(params.get("k", "1")), signal=signal)}
        elif path == "/_farm/churn" and method == b"POST":
            self.churn = int(params.get("k", "1"))
            answer = {"churn": self.churn}
        else:
            return 404, b'{"error": "unknown control endpoint"}', []
        return 200, json.dumps(answer).encode(), []


def _not_modified(headers: dict[str, str], feed: _Feed) -> bool:
    """RFC 9110 §13.1.2/§13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if "if-none-match" in headers:
        tags = {t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")}
        return "*" in tags or feed.etag in tags
    since = headers.get("if-modified-since")
    if since:
        try:
            return feed.modified <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


# --- running as its own process ------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> tuple[FarmSpec, Path | None]:
    """The farm's command line → its spec and where to dump its documents."""
    default = FarmSpec()
    parser = argparse.ArgumentParser(
        prog="python -m bench.farm", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=default.n, help="number of feeds")
    parser.add_argument("--m", type=int, default=default.m, help="items per feed")
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--epoch", type=int, default=None, help="newest pubDate (default now)")
    parser.add_argument("--latency-ms", type=float, default=default.latency * 1000)
    parser.add_argument("--signal-fraction", type=float, default=default.signal_fraction)
    parser.add_argument("--gzip", action="store_true", help="gzip bodies when asked to")
    parser.add_argument("--dump", type=Path, help="write the initial documents to this file")
    parser.add_argument(
        "--template", action="store_true", help="templated market notes (bench/templated.py)"
    )
    args = parser.parse_args(argv)
    spec = FarmSpec(
        n=args.n,
        m=args.m,
        seed=args.seed,
        epoch=args.epoch if args.epoch is not None else int(time.time()),
        signal_fraction=args.signal_fraction,
        latency=args.latency_ms / 1000,
        gzip=args.gzip,
        template=args.template,
    )
    return spec, args.dump


async def serve(spec: FarmSpec, dump: Path | None = None, port: int = 0) -> None:
    """Run the farm until SIGTERM/SIGINT or until stdin reaches EOF (the parent went away).

    With `dump`, the initial documents are written there first (for the parse floor).
    """
    farm = await FeedFarm(spec).start(port)
    if dump is not None:
        write_documents(farm.documents(), dump)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if not sys.stdin.isatty():
        stdin = sys.stdin.fileno()
        loop.add_reader(stdin, lambda: None if os.read(stdin, 1) else stop.set())
    print(json.dumps({"port": farm.port, "digest": farm.digest, "n": spec.n}), flush=True)
    await stop.wait()
    await farm.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m bench.farm`."""
    spec, dump = parse_args(argv)
    asyncio.run(serve(spec, dump))


if __name__ == "__main__":
    main()
