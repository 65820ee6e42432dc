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
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL

T = TypeVar("T")


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

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one transaction: committed if it returns, else rolled back.

        The transaction runs to its end even if the caller is cancelled meanwhile: the
        cancel takes effect when it has ended (committed, or rolled back by an error).
        With one thread, transactions run one after another in the order asked for.
        """
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
        with self._engine.begin() as connection:
            return work(connection)
