"""`polling.parse_workers: 0`: the worker pool's contract on threads, no process started."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests import slowparse
from tests.delivery import BAN, FLOOD, entries, feed_source, feed_xml
from tests.procs import descendants
from tests.servers import FeedServer, Route
from watcher.concurrency.threads import ThreadWorkers
from watcher.domain.errors import ParseError, TaskTimeout, WorkerError
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime
from watcher.sources.feed import parse_document


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
