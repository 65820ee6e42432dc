"""CPU per conditional GET, by HTTP client: `python -m bench.http_clients [--n 1000] [--runs 3]`.

An idle round is a few hundred conditional GETs answered `304 Not Modified`; the client's
own CPU per request is what such a round costs beyond start-up. This compares, on one
local server and one workload, the watcher's own fetcher (aiohttp with its limits,
per-host slots and checks) with the clients on the package index it was chosen from:

- `watcher`: `watcher.sources.http.Fetcher.get` with an ETag, as a poll makes it;
- `aiohttp`: a bare `aiohttp.ClientSession` (the library the fetcher is built on);
- `httpx`: a bare `httpx.AsyncClient` (the fetcher's library until 2026-12);
- `httpcore`: httpx's transport alone (`httpcore.AsyncConnectionPool`).

All run in the bench's own environment (aiohttp is a dependency of the service, httpx
of its tests).

Each client runs in a fresh process of its own: N GETs of distinct URLs, C at a time,
from a fresh client (connections opened as a cron-started round opens them), every one
with `If-None-Match` and answered 304 by a server in another process. The figure is the
client process's user + system CPU over the N requests, divided by N; imports and the
interpreter's start are outside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ("watcher", "aiohttp", "httpx", "httpcore")
ETAG = '"farm-1"'
HOST = "127.0.0.1"


# --- the server ----------------------------------------------------------------------


class _Answer(asyncio.Protocol):
    """HTTP/1.1 keep-alive: 304 to a request with If-None-Match, else 200 with a tiny body."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            if b"if-none-match:" in head.lower():
                self.transport.write(
                    b"HTTP/1.1 304 Not Modified\r\nETag: " + ETAG.encode() + b"\r\n"
                    b"Content-Length: 0\r\n\r\n"
                )
            else:
                body = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: "
                    + ETAG.encode()
                    + b"\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )


async def serve() -> None:
    """Serve until killed; print the port as the first line."""
    server = await asyncio.get_running_loop().create_server(_Answer, HOST, 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


# --- the clients ---------------------------------------------------------------------

Get = Callable[[str], Awaitable[int]]


async def _watcher(urls: list[str], concurrency: int) -> float:
    from watcher.config.schema import HttpConfig
    from watcher.sources.http import Fetcher
    from watcher.sources.result import Validators

    config = HttpConfig(max_connections=concurrency, per_host=concurrency)
    fetcher = Fetcher(config, "bench/1")
    validators = Validators(etag=ETAG)
    try:

        async def get(url: str) -> int:
            result = await fetcher.get(url, "bench", validators)
            return 304 if result.not_modified else 200

        return await _drive(get, urls, concurrency)
    finally:
        await fetcher.aclose()


async def _httpx(urls: list[str], concurrency: int) -> float:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def get(url: str) -> int:
            response = await client.get(url, headers={"If-None-Match": ETAG})
            return response.status_code

        return await _drive(get, urls, concurrency)


async def _httpcore(urls: list[str], concurrency: int) -> float:
    import httpcore

    async with httpcore.AsyncConnectionPool(max_connections=concurrency) as pool:

        async def get(url: str) -> int:
            response = await pool.request("GET", url, headers={"If-None-Match": ETAG})
            return response.status

        return await _drive(get, urls, concurrency)


async def _aiohttp(urls: list[str], concurrency: int) -> float:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def get(url: str) -> int:
            async with session.get(url, headers={"If-None-Match": ETAG}) as response:
                await response.read()
                return response.status

        return await _drive(get, urls, concurrency)


async def _drive(get: Get, urls: list[str], concurrency: int) -> float:
    """Every URL once, `concurrency` at a time; the process's CPU seconds over them all."""
    slots = asyncio.Semaphore(concurrency)

    async def one(url: str) -> int:
        async with slots:
            return await get(url)

    before = _cpu()
    statuses = await asyncio.gather(*(one(url) for url in urls))
    spent = _cpu() - before
    if set(statuses) != {304}:
        raise RuntimeError(f"expected only 304 answers, got {sorted(set(statuses))}")
    return spent


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


RUNNERS = {"watcher": _watcher, "httpx": _httpx, "httpcore": _httpcore, "aiohttp": _aiohttp}


def client(name: str, port: int, n: int, concurrency: int) -> None:
    """One measured run in this process; prints `{"cpu_ms_per_request": ..., "wall": ...}`."""
    urls = [f"http://{HOST}:{port}/feeds/{index}.xml" for index in range(n)]
    started = time.perf_counter()
    cpu = asyncio.run(RUNNERS[name](urls, concurrency))
    wall = time.perf_counter() - started
    print(json.dumps({"cpu_ms_per_request": 1000 * cpu / n, "wall": wall}))


# --- the driver ----------------------------------------------------------------------


def compare(n: int, concurrency: int, runs: int) -> dict[str, list[float]]:
    """CPU ms per request of every client, `runs` interleaved runs each."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.http_clients", "--serve"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    figures: dict[str, list[float]] = {name: [] for name in CLIENTS}
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        env = os.environ | {"PYTHONPATH": str(ROOT)}
        for _ in range(runs):
            for name in CLIENTS:
                command = [sys.executable, "-m", "bench.http_clients", "--client", name]
                command += ["--port", str(port), "--n", str(n), "--concurrency", str(concurrency)]
                out = subprocess.run(
                    command, cwd=ROOT, env=env, capture_output=True, text=True, check=True
                )
                figures[name].append(json.loads(out.stdout)["cpu_ms_per_request"])
    finally:
        server.kill()
        server.wait()
    return figures


def render(figures: dict[str, list[float]], n: int, concurrency: int) -> str:
    """One line per client: median and range of CPU ms per request, ratio to the watcher's."""
    base = statistics.median(figures["watcher"]) if figures["watcher"] else None
    lines = [
        f"HTTP client CPU per conditional GET (304), {n} requests, {concurrency} at a time",
        "client | CPU ms per request | ÷ watcher",
        "--- | --- | ---",
    ]
    for name, values in figures.items():
        if not values:
            continue
        median = statistics.median(values)
        ratio = f"{median / base:.2f}" if base else "–"
        lines.append(f"{name} | {median:.3f} ({min(values):.3f}–{max(values):.3f}) | {ratio}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Serve, measure one client, or compare them all (the default)."""
    parser = argparse.ArgumentParser(prog="python -m bench.http_clients", description=__doc__)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=1000, help="requests per run")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--runs", type=int, default=3, help="runs per client (interleaved)")
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve())
    elif args.client:
        client(args.client, args.port, args.n, args.concurrency)
    else:
        print(render(compare(args.n, args.concurrency, args.runs), args.n, args.concurrency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
