"""A process that owns a started WorkerPool, for the tests that kill it or close the pool.

`python -m tests.poolowner DIR [close]` starts a pool of two workers, keeps one busy in
C code, prints `WORKERS <pid> <pid>` and `DESCENDANTS <pid> ...` (every process under
it, from /proc), then `READY`, and waits to be killed. With `close` it then closes the
pool and prints `CLOSED` with the descendants left.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from tests import slowparse
from tests.procs import descendants
from watcher.concurrency.pool import WorkerPool


async def main(folder: Path, close: bool) -> None:
    pool = WorkerPool(2, deadline=600)
    await pool.start()
    workers = set(await asyncio.gather(*(pool.run("pid", slowparse.pid_after, 0.3) for _ in "ab")))
    marker = folder / "stuck"
    stuck = asyncio.ensure_future(pool.run("stuck", slowparse.stuck_in_c, str(marker)))
    while not marker.exists():
        await asyncio.sleep(0.01)
    print("WORKERS", *sorted(workers), flush=True)
    print("DESCENDANTS", *descendants(), flush=True)
    print("READY", flush=True)
    if close:
        started = time.monotonic()
        pool.close()
        print("CLOSED", round(time.monotonic() - started, 2), *descendants(), flush=True)
        await asyncio.gather(stuck, return_exceptions=True)
        return
    await asyncio.sleep(600)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), close=sys.argv[2:] == ["close"]))
