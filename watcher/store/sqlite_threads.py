"""SQLite transactions run whole on a thread, over connections of their own.

SQLite has one writer at a time, so how long a write transaction lasts is how many the
process can make. Through the async driver (aiosqlite), each statement of a transaction
is a round trip through the event loop: the transaction waits for the loop's turn once
per statement. With a hundred polls fetching, parsing and mailing on that loop, a poll's
few milliseconds of SQL held the write lock many times longer, and the writers' queue
became a busy round's bottleneck. A poll's reads (which of its items are known) paid
the same hops.

`SqliteThreads` runs a whole transaction, a function of a synchronous SQLAlchemy
`Connection`, on one of its threads over a connection of its own to the same file (the
standard library's sqlite3 driver): one hop to the thread and one back, however many
statements. Its connections have the async pool's pragmas (WAL, busy timeout, foreign
keys); a writer's transactions start with `BEGIN IMMEDIATE`, a reader's with `BEGIN`.
A connection is used by one thread at a time (the pool hands it out), so the sqlite3
module's same-thread check is off.

A writer (`BEGIN IMMEDIATE`) holds SQLite's one write lock for the whole transaction, and
the sqlite3 module releases the GIL around every statement it steps: each time, the
writer waits to get the GIL back from the parse threads and the event loop, up to the
switch interval (CPython's default 5 ms) per statement, with the lock held. When other
transactions are queued behind the one starting, the writer is what the process waits
for: while that transaction runs, the process's switch interval is
`WRITER_SWITCH_INTERVAL`, and the interval from before is restored when it ends. A writer
with nothing queued behind it keeps the process's own interval (a shorter one costs the
parse threads switches, and they are then what the process waits for).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL

T = TypeVar("T")
WRITER_SWITCH_INTERVAL = 0.001  # seconds (`sys.setswitchinterval`), during a write


class SqliteThreads:
    """Runs `work(connection)` in a transaction on one of `threads` threads.

    `begin` is the statement that starts each transaction (`BEGIN IMMEDIATE` for a
    writer); `on_connect(dbapi_connection, record)` sets up each new connection.
    """

    def __init__(
        self,
        url: URL,
        *,
        threads: int,
        begin: str,
        connect_args: dict[str, Any],
        on_connect: Callable[..., None],
        name: str,
    ) -> None:
        self._engine = create_sync_engine(
            url.set(drivername="sqlite"),
            connect_args=connect_args | {"check_same_thread": False},
            pool_size=threads,
            max_overflow=0,
        )
        event.listen(self._engine, "connect", on_connect)
        event.listen(self._engine, "begin", lambda connection: connection.exec_driver_sql(begin))
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        # only a single writer thread changes the interval: no two transactions overlap
        self._writer = threads == 1 and begin.upper().startswith("BEGIN IMMEDIATE")
        # transactions asked for (counted on the event loop) and started (on the thread)
        self._asked = 0
        self._started = 0

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one transaction: committed if it returns, else rolled back.

        The transaction runs to its end even if the caller is cancelled meanwhile: the
        cancel takes effect when it has ended (committed, or rolled back by an error).
        With one thread, transactions run one after another in the order asked for.
        """
        self._asked += 1
        done = asyncio.get_running_loop().run_in_executor(self._threads, self._transaction, work)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            await asyncio.wait([done])
            raise

    async def close(self) -> None:
        """Let the threads finish what they were given, then close the connections."""
        await asyncio.to_thread(self._threads.shutdown, wait=True)
        self._engine.dispose()

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        self._started += 1
        if not self._writer or self._asked <= self._started:  # none queued behind this one
            with self._engine.begin() as connection:
                return work(connection)
        before = sys.getswitchinterval()
        sys.setswitchinterval(WRITER_SWITCH_INTERVAL)
        try:
            with self._engine.begin() as connection:
                return work(connection)
        finally:
            sys.setswitchinterval(before)
