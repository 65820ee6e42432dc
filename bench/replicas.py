"""Scale-out figures: sources/min and emails/min with 1 and 3 replicas on one PostgreSQL.

    .venv/bin/python -m bench.replicas [--feeds 100] [--subscribers 10] [--replicas 1 3]

Each run creates a fresh PostgreSQL database on 127.0.0.1:5432 (dropped afterwards),
serves N feeds of one item from a local HTTP server, and starts R `watcher run`
processes. It reports the time until every source has been polled once and until the
local SMTP server has accepted every alert (N × subscribers emails). Bounded: each run
gives up after 300 s. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import yaml

from tests.conftest import PG_ADMIN_DSN, RULES, _postgres_database
from tests.servers import FeedServer, Route, SmtpSink
from tests.test_replicas import _feed

LIMIT_SECONDS = 300


async def _polled(url: str) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM sources WHERE polls > 0") or 0)
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await conn.close()


def run(feeds: int, subscribers: int, replicas: int) -> tuple[float, float]:
    """Seconds until all sources were polled, and until all alerts were accepted."""
    with _postgres_database() as url, tempfile.TemporaryDirectory() as tmp:
        server, sink = FeedServer().start(), SmtpSink().start()
        try:
            for feed in range(feeds):
                headers = {"Content-Type": "application/rss+xml", "ETag": f'"{feed}"'}
                server.routes[f"/f{feed}.xml"] = Route(_feed(feed, 1), headers=headers)
            config = {
                "include": [str(RULES)],
                "data_dir": tmp,
                "database": {"url": url},
                "log": {"level": "warning", "format": "json"},
                "web": {"enabled": False},
                "smtp": {"host": "127.0.0.1", "port": sink.port, "tls": "none"},
                "http": {"per_host": 8, "max_connections": 40},
                "polling": {"tick": "0.5s", "story_window": "1m", "parse_workers": 1},
                "dispatcher": {"every": "1s", "lease": "30s", "batch": 50},
                "sources": [
                    {
                        "name": f"feed{f:03d}",
                        "kind": "feed",
                        "url": server.url(f"/f{f}.xml"),
                        "every": "1h",
                        "jitter": "0s",
                        "backfill": "3650d",
                    }
                    for f in range(feeds)
                ],
                "subscribers": [{"email": f"reader{s}@example.com"} for s in range(subscribers)],
            }
            path = Path(tmp) / "watcher.yaml"
            path.write_text(yaml.safe_dump(config), encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if k != "WATCHER_CONFIG"}
            started = time.monotonic()
            processes = [
                subprocess.Popen(
                    [sys.executable, "-m", "watcher", "run", "--config", str(path)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
                for _ in range(replicas)
            ]
            polled_at = mailed_at = float("nan")
            try:
                while time.monotonic() - started < LIMIT_SECONDS:
                    now = time.monotonic() - started
                    if polled_at != polled_at and asyncio.run(_polled(url)) >= feeds:
                        polled_at = now
                    if len(sink.messages) >= feeds * subscribers:
                        mailed_at = now
                        break
                    time.sleep(0.2)
            finally:
                for process in processes:
                    process.send_signal(signal.SIGTERM)
                for process in processes:
                    process.wait(60)
            return polled_at, mailed_at
        finally:
            server.stop()
            sink.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()
    print(
        f"PostgreSQL at {PG_ADMIN_DSN}; {args.feeds} feeds × 1 item, {args.subscribers} subscribers"
    )
    print(
        f"{'replicas':>8} {'all polled s':>13} {'sources/min':>12}"
        f" {'all mailed s':>13} {'emails/min':>11}"
    )
    for count in args.replicas:
        polled, mailed = run(args.feeds, args.subscribers, count)
        emails = args.feeds * args.subscribers
        print(
            f"{count:>8} {polled:>13.1f} {args.feeds / polled * 60:>12.0f}"
            f" {mailed:>13.1f} {emails / mailed * 60:>11.0f}"
        )


if __name__ == "__main__":
    main()
