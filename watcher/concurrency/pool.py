"""Parsing in worker processes with a deadline, so one pathological document cannot stall us.

feedparser, lxml (under trafilatura) and the HTML parser are C-accelerated code with
known slow paths; a thread cannot be stopped, a process can. Each parse runs in a
`ProcessPoolExecutor`; one that overruns its deadline gets the pool's processes killed
and a fresh pool started. Other parses that were running in the killed pool are retried
once on the new one, so only the slow document fails.

Workers come from a `forkserver` (never `fork` from this multi-threaded process), which
imports the parsers once, so a new worker starts in milliseconds.

A new worker also imports the main module, as every child of the `spawn` and
`forkserver` methods does (`multiprocessing.spawn.prepare`), and the main module of the
`watcher` command (or of `python -m bench.worker`) imports the whole service: about a
second of CPU per worker, paid again by every pool. So the forkserver imports the main
module and the service too (`preload_modules`), once per process, and a worker finds
them imported: a new pool's first answer came in ~12 ms instead of ~0.6 s. The
forkserver's imports take that second once; `ParserPool.start` waits for them on a
thread, so the event loop never blocks on the first worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import structlog

from watcher.domain.errors import ParseError

T = TypeVar("T")
log = structlog.get_logger("watcher.worker")
PARSERS = [
    "watcher.sources.feed",
    "watcher.sources.page",
    "watcher.sources.fulltext",
    "watcher.service.analysis",
]
# Tasks one pool runs before a fresh pool takes over: parsers may leak in long-running
# processes. Not `max_tasks_per_child`: with it, CPython 3.11–3.13 stops replacing
# workers once one retires under a backlog and the queued parses hang
# (python/cpython#115634), which the daemon hit after ~500 parses per worker.
TASKS_PER_POOL = 1000
# A worker re-runs a main module preloaded by name (`preload_modules`) as `__mp_main__`,
# and runpy warns that the module was imported already: on purpose here. The filter is
# inherited by the forkserver's workers, which import this module.
warnings.filterwarnings(
    "ignore", message=r"'.*' found in sys\.modules after import of package", category=RuntimeWarning
)


def preload_modules() -> list[str]:
    """What the forkserver imports for every worker: the main module, the service, the parsers.

    A main module run as `python -m NAME` is imported by that name: a worker then only
    re-runs its body, its imports are done (`python -m PACKAGE`, its `__main__`, is
    never imported by a worker). A main module run as a script (the `watcher` command)
    is run again by every worker from its path; `"__main__"` would have the forkserver
    do that once, but CPython 3.11 never hands the forkserver the path, so the service
    (`watcher.cli`, all the `watcher` command imports) is preloaded by name as well.
    """
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    name = getattr(spec, "name", None)
    by_name = [name] if name and name != "__main__" and not name.endswith(".__main__") else []
    return ["__main__", *by_name, "watcher.cli", *PARSERS]


class ParserPool:
    """Run picklable functions in worker processes, each call bounded by a deadline.

    After `recycle_after` calls the pool is replaced by a fresh one; the old one
    finishes what it was given and its processes exit.
    """

    def __init__(self, workers: int, deadline: float, recycle_after: int = TASKS_PER_POOL) -> None:
        self.workers = workers
        self.deadline = deadline
        self.recycle_after = recycle_after
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(preload_modules())
        self._pool = self._new_pool()
        self._given = 0  # calls handed to the current pool
        self._retired: list[ProcessPoolExecutor] = []
        self.restarts = 0

    async def start(self) -> None:
        """Start a first worker on a thread and wait for it to answer.

        The first worker of a process waits for the forkserver's imports (about a second
        for the whole service); later workers are forked from it in milliseconds. Call it
        before the first `run` so that wait never blocks the event loop.
        """
        pool = self._pool
        await asyncio.to_thread(lambda: pool.submit(os.getpid).result())

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context)

    def _take_pool(self) -> ProcessPoolExecutor:
        """The pool for the next call, replacing a pool that has had its share."""
        if self._given >= self.recycle_after:
            old, self._pool, self._given = self._pool, self._new_pool(), 0
            old.shutdown(wait=False)  # lets its calls finish, then its processes exit
            self._retired = [p for p in self._retired if _alive(p)] + [old]
        self._given += 1
        return self._pool

    async def run(self, source: str, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker; `ParseError` when it overruns the deadline or crashes it."""
        for attempt in (1, 2):
            pool = self._take_pool()
            try:
                future = asyncio.get_running_loop().run_in_executor(pool, fn, *args)
                async with asyncio.timeout(self.deadline):
                    return await future
            except TimeoutError:
                self._recycle(pool, reason="deadline")
                raise ParseError(
                    source, f"{what} took longer than {self.deadline:g}s; abandoned"
                ) from None
            except BrokenProcessPool:
                # the first time, the breakage may be another parse's: retry on a new pool
                self._recycle(pool, reason="broken")
                if attempt == 2:
                    raise ParseError(source, f"{what} crashed the parser process") from None
        raise AssertionError("unreachable")

    def _recycle(self, pool: ProcessPoolExecutor, reason: str) -> None:
        """Kill `pool`'s processes and start a new pool, unless that already happened."""
        if pool is not self._pool:
            return
        self.restarts += 1
        log.warning("parser_pool_restarted", reason=reason, restarts=self.restarts)
        self._kill(pool)
        self._pool, self._given = self._new_pool(), 0

    def close(self) -> None:
        """Stop every worker now, retired pools' too; running parses are abandoned."""
        for pool in [*self._retired, self._pool]:
            self._kill(pool)
        self._retired = []

    @staticmethod
    def _kill(pool: ProcessPoolExecutor) -> None:
        processes = _processes(pool)
        for process in processes:
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=5)


def _alive(pool: ProcessPoolExecutor) -> bool:
    """True while any of a (shut down) pool's processes still runs."""
    return any(process.is_alive() for process in _processes(pool))


def _processes(pool: ProcessPoolExecutor) -> list[Any]:
    """The pool's worker processes (none once it has wound down).

    The executor has no public way to stop a running task; its process table is the
    documented-in-source handle (CPython Lib/concurrent/futures/process.py).
    """
    return list((getattr(pool, "_processes", None) or {}).values())
