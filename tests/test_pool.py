"""The CPU worker pool: deadlines from a task's start, one killed worker, no orphans."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import signal
import sys
import time
import types
from collections.abc import Callable, Iterable
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from tests import slowparse
from tests.conftest import ROOT
from tests.delivery import BAN, entries, feed_xml
from tests.procs import alive, children, command, descendants
from tests.servers import FeedServer, Route
from watcher.concurrency.pool import WorkerPool, main_module_imports
from watcher.domain.errors import ParseError, TaskCrashed, TaskTimeout, WorkerError
from watcher.sources.feed import parse_document


async def _pids(pool: WorkerPool, workers: int) -> set[int]:
    """The pool's worker pids: one task per worker, each long enough to keep it busy."""
    return set(
        await asyncio.gather(*(pool.run("pid", slowparse.pid_after, 0.3) for _ in range(workers)))
    )


async def _until(condition: Callable[[], bool], what: str, within: float = 60) -> None:
    """Wait, at most `within` seconds, until `condition()` holds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"waited {within}s for {what}"
        await asyncio.sleep(0.02)


async def test_a_task_over_the_deadline_is_killed_alone() -> None:
    """One hanging task fails with TaskTimeout; the tasks beside it finish on their workers."""
    pool = WorkerPool(3, deadline=1)
    try:
        await pool.start()
        before = await _pids(pool, 3)
        assert len(before) == 3
        started = time.monotonic()
        hung, *others = await asyncio.gather(
            pool.run("parsing https://x/feed", slowparse.sleep_then, 30, "never"),
            pool.run("a", slowparse.pid_after, 0.5),
            pool.run("b", slowparse.pid_after, 0.5),
            return_exceptions=True,
        )
        assert time.monotonic() - started < 6  # the deadline and pebble's SIGTERM grace
        assert isinstance(hung, TaskTimeout)
        assert str(hung) == "parsing https://x/feed took longer than 1s; abandoned"
        assert set(others) <= before
        assert len(set(others)) == 2
        assert pool.restarts == 1
        [killed] = before - set(others)
        await _until(lambda: not alive(killed), "the overrunning worker to die")
        assert all(alive(pid) for pid in others)  # the other workers were not restarted
        after = await _pids(pool, 3)
        assert set(others) <= after
        assert killed not in after
    finally:
        pool.close()


async def test_the_deadline_counts_from_when_a_task_starts() -> None:
    """One worker, a queue of tasks each 40 % of the deadline: waiting is not charged.

    (The 1.2 s a task has to spare holds on a busy machine; at 60 % of a 1 s deadline a
    loaded CI runner once took the 0.4 s left.)"""
    pool = WorkerPool(1, deadline=2)
    try:
        await pool.start()
        started = time.monotonic()
        done = await asyncio.gather(
            *(pool.run(f"task {n}", slowparse.sleep_then, 0.8, str(n)) for n in range(4))
        )
        assert done == ["0", "1", "2", "3"]
        assert time.monotonic() - started >= 3.2  # they queued: the last waited 2.4 s
        assert pool.restarts == 0
    finally:
        pool.close()


async def test_a_workers_warm_up_runs_before_its_first_task_and_is_not_charged_to_it() -> None:
    """A warm-up longer than the deadline: the first task still succeeds, and sees it done."""
    pool = WorkerPool(1, deadline=1, warm=functools.partial(slowparse.warm_slowly, 2.5, "ready"))
    try:
        assert await pool.run("first task", slowparse.warmed) == ["ready"]
        assert pool.restarts == 0
    finally:
        pool.close()


async def test_a_failing_warm_up_leaves_the_worker_taking_tasks() -> None:
    """The warm-up's exception is the worker's to log; its tasks run as without one."""
    pool = WorkerPool(1, deadline=30, warm=slowparse.warm_badly)
    try:
        assert await pool.run("first task", slowparse.warmed) == []
        assert await pool.run("second task", slowparse.sleep_then, 0, "done") == "done"
        assert pool.restarts == 0
    finally:
        pool.close()


async def test_a_crashing_task_fails_alone_and_the_pool_goes_on() -> None:
    """A worker that dies (a C parser's segfault) is TaskCrashed for its task only."""
    pool = WorkerPool(2, deadline=10)
    try:
        await pool.start()
        crashed, fine = await asyncio.gather(
            pool.run("parsing boom", slowparse.crash),
            pool.run("parsing ok", slowparse.sleep_then, 0.5, "fine"),
            return_exceptions=True,
        )
        assert isinstance(crashed, TaskCrashed)
        assert str(crashed) == "parsing boom crashed its worker process (exit code 1)"
        assert fine == "fine"
        assert pool.restarts == 1
        assert await pool.run("after", slowparse.sleep_then, 0, "still fine") == "still fine"
    finally:
        pool.close()


async def test_an_exception_raised_by_the_task_comes_back_unchanged() -> None:
    """The task's own exception is raised to the caller as it was; no worker is lost."""
    pool = WorkerPool(1, deadline=10)
    try:
        with pytest.raises(ValueError, match="invalid literal"):
            await pool.run("converting", int, "x")
        with pytest.raises(ParseError, match="not a JSON Feed") as caught:
            await pool.run("parsing", parse_document, b'{"items": []}', "api")
        assert caught.value.source == "api"
        assert pool.restarts == 0
    finally:
        pool.close()


async def test_a_cancelled_caller_leaves_the_pool_usable(tmp_path: Path) -> None:
    """Callers cancelled while their task runs or waits: no worker killed, the pool goes on."""
    pool = WorkerPool(1, deadline=10)
    try:
        await pool.start()
        marker = tmp_path / "started"
        running = asyncio.ensure_future(
            pool.run("running", slowparse.mark_then_sleep, str(marker), 0.5, "r")
        )
        waiting = asyncio.ensure_future(pool.run("waiting", slowparse.sleep_then, 0, "w"))
        await _until(marker.exists, "the first task to start")
        running.cancel()
        waiting.cancel()
        await asyncio.gather(running, waiting, return_exceptions=True)
        assert running.cancelled()
        assert waiting.cancelled()
        assert await asyncio.gather(
            pool.run("next", slowparse.sleep_then, 0, "n1"),
            pool.run("next", slowparse.sleep_then, 0, "n2"),
        ) == ["n1", "n2"]
        assert pool.restarts == 0
    finally:
        pool.close()


async def test_workers_retire_after_their_share_and_nothing_hangs() -> None:
    """A backlog larger than a worker's share all completes, on fresh workers.

    (`max_tasks_per_child` hangs here on CPython 3.11–3.13: python/cpython#115634.)
    """
    pool = WorkerPool(1, deadline=10, tasks_per_worker=3)
    try:
        async with asyncio.timeout(60):
            pids = await asyncio.gather(*(pool.run(f"t{n}", os.getpid) for n in range(10)))
        assert len(set(pids)) == 4  # tasks 1–3, 4–6, 7–9 and 10: four workers in turn
        assert os.getpid() not in pids
        assert pool.restarts == 0  # retiring is not a failure
    finally:
        pool.close()


async def test_a_task_after_close_is_a_worker_error() -> None:
    """A closed pool refuses work with a WorkerError naming the task."""
    pool = WorkerPool(1, deadline=10)
    await pool.start()
    pool.close()
    with pytest.raises(WorkerError, match="parsing late: the worker pool is closed"):
        await pool.run("parsing late", slowparse.sleep_then, 0, "x")


def _script_main() -> None:
    """Stands for the `watcher` console script's `main`."""


_script_main.__module__ = "watcher.cli.app"


@pytest.mark.parametrize(
    ("spec", "names", "expected"),
    [
        ("bench.worker", {}, ["bench.worker"]),  # `python -m bench.worker`: imported by name
        ("watcher.__main__", {}, []),  # `python -m watcher`: a package's __main__ is never re-run
        (None, {"re": re, "main": _script_main}, ["re", "watcher.cli.app"]),  # a script
    ],
)
def test_the_forkserver_imports_what_a_worker_re_running_main_would(
    monkeypatch: pytest.MonkeyPatch, spec: str | None, names: dict[str, object], expected: list[str]
) -> None:
    """A worker's re-run of the main module finds its imports done, for each way to run it."""
    main = types.ModuleType("__main__")
    main.__spec__ = ModuleSpec(spec, None) if spec else None
    main.__file__ = "/venv/bin/watcher"
    for name, value in names.items():
        setattr(main, name, value)
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert main_module_imports() == expected


def _owner_lines(lines: Iterable[bytes]) -> dict[str, list[str]]:
    return {line.split()[0].decode(): line.decode().split()[1:] for line in lines if line.strip()}


async def _read_until(stream: asyncio.StreamReader, last: str) -> dict[str, list[str]]:
    lines: list[bytes] = []
    async with asyncio.timeout(30):
        while not lines or not lines[-1].startswith(last.encode()):
            line = await stream.readline()
            assert line, f"the child ended before printing {last}: {lines}"
            lines.append(line)
    return _owner_lines(lines)


async def _all_gone(pids: Iterable[int], within: float = 30) -> None:
    left = list(pids)
    await _until(
        lambda: not [p for p in left if alive(p)],
        "every child to die: " + "; ".join(f"{p} {command(p)}" for p in left if alive(p)),
        within,
    )


async def test_sigkill_of_the_owner_leaves_no_child(tmp_path: Path) -> None:
    """Killing a pool's owner with SIGKILL takes its workers (one stuck in C), forkserver, all."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.poolowner", str(tmp_path),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        seen = await _read_until(child.stdout, "READY")
        workers = [int(p) for p in seen["WORKERS"]]
        family = [int(p) for p in seen["DESCENDANTS"]]
        assert len(workers) == 2
        assert set(workers) <= set(family)
        assert any("forkserver" in command(p) for p in family)
        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
        await _all_gone(family)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def test_close_stops_the_workers_now_and_the_forkserver_with_the_process(
    tmp_path: Path,
) -> None:
    """`close` kills the workers at once, one stuck in C code included; the rest exit with it."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.poolowner", str(tmp_path), "close",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        seen = await _read_until(child.stdout, "CLOSED")
        seconds, *left = seen["CLOSED"]
        assert float(seconds) < 5
        workers = {int(p) for p in seen["WORKERS"]}
        assert not workers & {int(p) for p in left}  # the workers are gone at once
        family = {int(p) for p in seen["DESCENDANTS"]}
        assert await asyncio.wait_for(child.wait(), 30) == 0
        await _all_gone(family)  # the forkserver and the tracker left with the process
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


@pytest.mark.timeout(300)  # a daemon's start on a busy machine; the waits end on events
async def test_sigkill_of_watcher_run_leaves_no_child(
    feed_server: FeedServer, write_config: Callable[..., Path]
) -> None:
    """`watcher run` killed with SIGKILL: its forkserver, workers and resource tracker die too.

    The workers start with the first parse (`parse_backlog: 0s`), so the source serves a feed.
    """
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    path = write_config(
        sources=[{"name": "wire", "kind": "feed", "url": feed_server.url("/f")}],
        polling={"parse_backlog": "0s"},
    )
    log = path.parent / "daemon.log"
    with log.open("wb") as output:
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "watcher", "run", "--config", str(path),
            cwd=ROOT, stdout=output, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:

        def workers_up() -> bool:
            assert daemon.returncode is None, log.read_text()[-3000:]
            servers = [p for p in children(daemon.pid) if "forkserver" in command(p)]
            return bool(servers) and len(children(servers[0])) >= 2  # polling.parse_workers

        await _until(workers_up, f"the daemon's two workers; log: {log}", within=120)
        family = descendants(daemon.pid)
        daemon.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(daemon.wait(), 10) == -signal.SIGKILL
        await _all_gone(family)
    finally:
        if daemon.returncode is None:
            daemon.kill()
            await daemon.wait()


@pytest.mark.timeout(300)  # a daemon's start on a busy machine; the waits end on events
async def test_ctrl_c_on_watcher_run_exits_zero_without_stray_tracebacks(
    feed_server: FeedServer, write_config: Callable[..., Path]
) -> None:
    """SIGINT to the whole process group (Ctrl-C): exit 0, no `Process ForkServerProcess-N:`.

    The workers start with the first parse (`parse_backlog: 0s`), so the source serves a feed.
    """
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    path = write_config(
        sources=[{"name": "wire", "kind": "feed", "url": feed_server.url("/f")}],
        polling={"parse_backlog": "0s"},
        log={"format": "json"},
    )
    log = path.parent / "daemon.log"
    with log.open("wb") as output:
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "watcher", "run", "--config", str(path),
            cwd=ROOT, stdout=output, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:

        def workers_up() -> bool:
            assert daemon.returncode is None, log.read_text()[-3000:]
            servers = [p for p in children(daemon.pid) if "forkserver" in command(p)]
            return bool(servers) and len(children(servers[0])) >= 2

        await _until(workers_up, f"the daemon's two workers; log: {log}", within=120)
        family = descendants(daemon.pid)
        os.killpg(daemon.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        assert await asyncio.wait_for(daemon.wait(), 60) == 0, log.read_text()[-3000:]
        await _all_gone(family)
    finally:
        if daemon.returncode is None:
            os.killpg(daemon.pid, signal.SIGKILL)
            await daemon.wait()
    output_text = log.read_text()
    assert "Traceback" not in output_text
    assert "ForkServerProcess" not in output_text
    assert '"event": "shutdown_complete"' in output_text
