"""Sources parse in the shared worker pool; a worker that overran or died fails the source.

The pool (`watcher.concurrency.pool`) knows nothing of sources: it raises `WorkerError`
naming the task. Here that becomes the source's `ParseError`, a `SourceError` like any
other, so the poll records it on the source's row and the round goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from watcher.concurrency.pool import Runs
from watcher.domain.errors import ParseError, WorkerError

T = TypeVar("T")


async def parse_in_worker(
    pool: Runs, source: str, what: str, fn: Callable[..., T], *args: Any
) -> T:
    """`pool.run(what, fn, *args)`; `ParseError` for `source` when its worker overran or died."""
    try:
        return await pool.run(what, fn, *args)
    except WorkerError as exc:
        raise ParseError(source, str(exc)) from exc
