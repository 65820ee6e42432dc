"""`polling.parse_workers: 0`: the worker pool's contract on threads, no process started."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from tests import slowparse
from tests.delivery import BAN, FLOOD, entries, feed_source, feed_xml
from tests.procs import descendants
from tests.servers import FeedServer, Route
from watcher.concurrency.threads import ThreadWorkers
from watcher.domain.errors import ParseError, TaskTimeout, WorkerError
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime
from watcher.sources.feed import parse_document
from watcher.store.sqlite_threads import WRITER_SWITCH_INTERVAL, SqliteThreads


def _raise_parse_error() -> None:
    raise ParseError("wire", "not a feed")


async def test_an_overrunning_task_times_out_alone_and_waiting_is_not_charged() -> None:
    """One thread busy past the deadline: TaskTimeout for it; queued tasks run in full."""
    pool = ThreadWorkers(2, deadline=1)
    try:
        hung, *others = await asyncio.gather(
            pool.run("parsing https://x/feed", slowparse.sleep_then, 3, "late"),
            # four tasks of 0.6 s on the one other thread: 2.4 s of waiting, never charged
            *(pool.run(f"task {n}", slowparse.sleep_then, 0.6, str(n)) for n in range(4)),
            return_exceptions=True,
        )
        assert isinstance(hung, TaskTimeout)
        assert str(hung) == "parsing https://x/feed took longer than 1s; abandoned"
        assert sorted(others) == ["0", "1", "2", "3"]
        assert pool.restarts == 1
    finally:
        pool.close()


async def test_errors_propagate_and_a_closed_pool_refuses() -> None:
    """What `fn` raises is raised to the caller; after `close`, `run` raises WorkerError."""
    pool = ThreadWorkers(1, deadline=5)
    with pytest.raises(ParseError, match="not a feed"):
        await pool.run("parsing", _raise_parse_error)
    assert await pool.run("parsing", parse_document, feed_xml(entries(BAN)), "wire") is not None
    pool.close()
    with pytest.raises(WorkerError, match="closed"):
        await pool.run("parsing", parse_document, b"", "wire")


async def test_a_round_without_worker_processes_stores_and_mails(
    feed_server: FeedServer, make_config: Any, tmp_path: Path
) -> None:
    """parse_workers: 0 — a whole round parses, classifies and renders on threads, no child."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD)))
    config = make_config(sources=[feed_source(feed_server.url("/f"))], polling={"parse_workers": 0})
    before = set(descendants())
    parse_threads: list[str] = []

    def watch() -> None:
        while not done.is_set():
            parse_threads.extend(
                t.name for t in threading.enumerate() if t.name.startswith("watcher-parse")
            )
            time.sleep(0.01)

    done = threading.Event()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        async with Runtime(config) as rt:
            assert isinstance(rt.parsers, ThreadWorkers)
        assert await run_once(config) == 0
    finally:
        done.set()
        watcher.join()
    assert set(descendants()) <= before  # no forkserver, no worker, no resource tracker
    assert parse_threads  # the work ran on the pool's threads
    mails = list((tmp_path / "data" / "maildrop").glob("*.eml"))
    assert len(mails) == 2


async def test_a_writer_with_transactions_queued_runs_at_the_writer_switch_interval(
    tmp_path: Path,
) -> None:
    """A writer's transaction with others queued behind it runs at `WRITER_SWITCH_INTERVAL`;
    the last of the queue, a lone one and a reader's run at the process's own interval,
    which is back after each (a failed one too)."""
    url = make_url(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")

    def threads(count: int, begin: str, name: str) -> SqliteThreads:
        return SqliteThreads(
            url, threads=count, begin=begin, connect_args={}, on_connect=_autocommit, name=name
        )

    def interval(connection: Connection) -> float:
        connection.exec_driver_sql("SELECT 1")
        return sys.getswitchinterval()

    gate, holding = threading.Event(), threading.Event()

    def held(connection: Connection) -> float:
        holding.set()
        assert gate.wait(60)
        return interval(connection)

    def failing(connection: Connection) -> float:
        return interval(connection) / 0

    before = sys.getswitchinterval()
    assert before != WRITER_SWITCH_INTERVAL
    writer, reader = threads(1, "BEGIN IMMEDIATE", "writer"), threads(2, "BEGIN", "reader")
    try:
        assert await writer.run(interval) == before  # nothing queued behind it
        first = asyncio.ensure_future(writer.run(held))
        assert await asyncio.to_thread(holding.wait, 60)  # started alone, holds the thread
        queued = [asyncio.ensure_future(writer.run(w)) for w in (interval, failing, interval)]
        await asyncio.sleep(0)  # the three are asked for
        gate.set()
        results = await asyncio.gather(first, *queued, return_exceptions=True)
        assert results[:2] == [before, WRITER_SWITCH_INTERVAL]
        assert isinstance(results[2], ZeroDivisionError)
        assert results[3] == before  # the last, with none behind it
        assert sys.getswitchinterval() == before
        assert await reader.run(interval) == before
    finally:
        gate.set()
        await writer.close()
        await reader.close()


def _autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the `begin` statement opens each transaction
