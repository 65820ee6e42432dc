"""The database: SQLite by default, PostgreSQL via URL; transactions as functions.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE`: it takes the write lock up front, so a transaction that reads and
then writes never fails with "database is locked" when another writer committed in
between (a deferred transaction cannot upgrade its snapshot; the busy handler does not
help there). Reads stay deferred and concurrent. `Database.run_write(work)` and
`run_read(work)` run a function of a synchronous connection as one transaction; on an
SQLite file whole on a thread (`watcher.store.sqlite_threads`): the writer thread, or
one of the reader threads.

SQLite has one writer at a time. Within the process, writers take turns on an asyncio
lock in arrival order, the outbox's short writes first (`watcher.store.turns`), instead
of in SQLite's busy handler, which polls with growing sleeps and lets a writer starve
past the busy timeout when a hundred polls want to write at once. The busy timeout
still covers other processes (replicas, the CLI).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Table, event
from sqlalchemy.engine import URL, make_url

from watcher.concurrency.coalesce import Coalescer
from watcher.domain.errors import StoreError
from watcher.store import migrate as migrations
from watcher.store import tables  # noqa: F401  (registers the tables on the metadata)
from watcher.store.failures import OPEN_ERRORS, describe_url, folder_failure, open_failure
from watcher.store.sqlite_threads import SqliteThreads
from watcher.store.turns import Turns

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
    from sqlalchemy.ext.asyncio import AsyncEngine

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CONNECTIONS = 8
READER_THREADS = 2  # threads (and connections) of `Database.run_read` on an SQLite file
# Per replica on PostgreSQL: at most 10 + 10. A poll holds a connection only for its
# short transactions, and PostgreSQL refuses connections past `max_connections` (100 by
# default): replicas sized to their HTTP limit (max_connections + 5, +10) could pass it.
POSTGRES_CONNECTIONS = 10
POSTGRES_OVERFLOW = 10
# Prepared statements each pooled SQLite connection keeps (the sqlite3 module's default
# is 128). Expanding IN lists and multi-row VALUES make a new SQL text for every length,
# so a long-running daemon sees hundreds of distinct texts: with 128 per connection the
# caches of a pool of connections held several MB more after every few dozen rounds
# (the daemon's memory bench). The texts that repeat are few; preparing the rest again
# costs microseconds.
SQLITE_CACHED_STATEMENTS = 16
WRITE_OPTION = "watcher_write"
IN_LIST = 500  # values per IN (...) list: well under every driver's parameter limit
T = TypeVar("T")


class Database:
    """One database, used one way: a function of a connection, run as one transaction.

    Every store function is `async def f(db, ...)` that hands `run_read` or `run_write`
    a function of a synchronous `Connection` (Core statements built from
    `watcher.store.tables`). The database also owns the coalescers its callers share
    (`coalescer`).
    """

    def __init__(self, engine: AsyncEngine | None, url: URL | None = None) -> None:
        """A database through `engine`; or, on an SQLite file, no engine and the file's `url`.

        On an SQLite file the transactions run on threads only; without an engine given,
        the async one is made only if `engine` is asked for (and disposed by `close`).
        """
        self._engine = engine
        url = engine.url if engine is not None else url
        if url is None:
            raise ValueError("a Database needs an engine or an SQLite file's URL")
        self.url: URL = url
        self._own_engine = False  # made here (on an SQLite file): disposed by `close`
        sqlite = url.get_backend_name() == "sqlite"
        self._writers: Turns | None = Turns() if sqlite else None
        file = sqlite_file(url) is not None
        self._writer = _threads(url, 1, "BEGIN IMMEDIATE", "sqlite-writer") if file else None
        self._readers = _threads(url, READER_THREADS, "BEGIN", "sqlite-reader") if file else None
        self._coalescers: dict[str, Coalescer[Any, Any]] = {}

    @property
    def engine(self) -> AsyncEngine:
        """The async engine (made on first use for an SQLite file opened without one)."""
        if self._engine is None:
            self._engine = create_engine(self.url.render_as_string(hide_password=False))
            self._own_engine = True
        return self._engine

    async def run_write(self, work: Callable[[Connection], T], *, urgent: bool = False) -> T:
        """`work(connection)` in one write transaction, committed when it returns.

        `work` gets a synchronous `Connection` and must not await. On SQLite the process's
        writers take turns (`urgent` ones, the outbox's short writes, go before the
        others: `watcher.store.turns`), and on an SQLite file the transaction runs whole on
        the writer thread; elsewhere through the async driver. An exception rolls it back.
        """
        if self._writer is not None:
            assert self._writers is not None
            async with self._writers.turn(urgent):
                return await self._writer.run(work)
        if self._writers is not None:
            async with self._writers.turn(urgent):
                return await self._write_async(work)
        return await self._write_async(work)

    async def _write_async(self, work: Callable[[Connection], T]) -> T:
        writing = self.engine.execution_options(**{WRITE_OPTION: True})
        async with writing.begin() as connection:
            return await connection.run_sync(work)

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one read transaction (one snapshot); `work` must not write.

        On an SQLite file on a reader thread (`READER_THREADS` of them), elsewhere through
        the async driver.
        """
        if self._readers is not None:
            return await self._readers.run(work)
        async with self.engine.connect() as connection:
            return await connection.run_sync(work)

    def coalescer(
        self, name: str, handle: Callable[[Database, list[Any]], Awaitable[list[Any]]]
    ) -> Coalescer[Any, Any]:
        """This database's coalescer `name`, made with `handle(db, requests)` on first use."""
        found = self._coalescers.get(name)
        if found is None:
            found = self._coalescers[name] = Coalescer(lambda requests: handle(self, requests))
        return found

    async def close(self) -> None:
        """Close the threads' connections, if any (the engine is the caller's to dispose)."""
        for threads in (self._writer, self._readers):
            if threads is not None:
                await threads.close()
        if self._own_engine and self._engine is not None:
            await self._engine.dispose()

    @property
    def postgres(self) -> bool:
        """True on PostgreSQL."""
        return self.url.get_backend_name() == "postgresql"


def create_engine(url: str, connections: int = 5) -> AsyncEngine:
    """An async engine for `url` holding up to `connections` pooled connections.

    The service asks for as many as the polls it runs at once. PostgreSQL gets at most
    `POSTGRES_CONNECTIONS` (+ `POSTGRES_OVERFLOW`) per replica, so that many replicas
    stay under the server's connection limit. SQLite gets at most `SQLITE_CONNECTIONS`: its
    statements take microseconds to milliseconds, writers take turns anyway, and every
    connection costs a thread and its own page cache (a hundred of them held hundreds
    of MB and re-read the same pages). An SQLite file's folder is created if missing.
    """
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(parsed)
        if database is not None:
            prepare_file(database)
        engine = create_async_engine(
            url,
            connect_args=_connect_args(),
            pool_size=min(connections, SQLITE_CONNECTIONS),
            max_overflow=0,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=min(connections, POSTGRES_CONNECTIONS),
        max_overflow=POSTGRES_OVERFLOW,
    )


def sqlite_file(url: URL) -> str | None:
    """The SQLite file `url` names; None for another engine or an in-memory database."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return database


def prepare_file(database: str) -> None:
    """Make the SQLite file's folder if missing and put the file in WAL mode."""
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise folder_failure(str(Path(database).parent), exc) from None
    try:
        _use_wal(database)
    except sqlite3.Error as exc:
        raise open_failure(database, exc) from None


def _use_wal(path: str) -> None:
    """Put the database file in WAL mode (it stays so) before the pool opens it.

    Switching a new file's journal mode needs its exclusive lock. Done by the first
    pooled connection instead, it raced with the other replicas starting at once: one
    connection switching while another held its migration's write lock waited out the
    busy timeout and failed with "database is locked".
    """
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def _threads(url: URL, threads: int, begin: str, name: str) -> SqliteThreads:
    """`threads` threads with a connection each to the SQLite file at `url`."""
    return SqliteThreads(
        url,
        threads=threads,
        begin=begin,
        connect_args=_connect_args(),
        on_connect=_sqlite_pragmas,
        name=name,
    )


def _connect_args() -> dict[str, Any]:
    """The sqlite3 module's connection arguments (aiosqlite passes them on)."""
    return {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "cached_statements": SQLITE_CACHED_STATEMENTS}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # the driver must not open transactions by itself: `_sqlite_begin` does, as asked
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(WRITE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def chunked(values: Sequence[T], size: int = IN_LIST) -> Iterator[Sequence[T]]:
    """`values` in consecutive slices of at most `size` (for IN lists and multi-row VALUES)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_ignoring(connection: Connection, table: Table, keys: Sequence[str]) -> Any:
    """`INSERT … ON CONFLICT (keys) DO NOTHING` into `table`, in the connection's dialect.

    The unique key makes a second insert harmless: a re-poll, a retry or another replica.
    Add `.values(...)` (and `.returning(...)`) to it.
    """
    insert = upsert_insert(connection.dialect.name)
    return insert(table).on_conflict_do_nothing(index_elements=list(keys))


@contextlib.asynccontextmanager
async def open_database(
    url: str, *, migrate: bool = True, connections: int = 5
) -> AsyncIterator[Database]:
    """The database at `url`, its schema ready, closed (threads, pool) when the block ends.

    The one way the service, the CLI and the tools open a database: `migrate` brings the
    schema to the newest revision, else a database not at it raises `StoreError`.
    """
    parsed = make_url(url)
    database = sqlite_file(parsed)
    if database is not None:
        # an SQLite file at head needs no async engine (nor the ORM its module imports):
        # the check runs on a reader thread; anything else goes the engine's way below
        prepare_file(database)
        db = Database(None, parsed)
        try:
            try:
                ready = await db.run_read(migrations.at_head)
                if not ready and migrate:
                    # a new file: the newest schema at once, without the migration stack
                    ready = await db.run_write(migrations.create_at_head)
            except OPEN_ERRORS:
                ready = False  # the engine's way says what is wrong, as it always did
            if not ready:
                await _prepare_with_engine(url, connections, migrate)
            yield db
        finally:
            await db.close()
        return
    engine = create_engine(url, connections=connections)
    try:
        await _prepare(engine, migrate)
        db = Database(engine)
        try:
            yield db
        finally:
            await db.close()
    finally:
        await engine.dispose()


async def _prepare_with_engine(url: str, connections: int, migrate: bool) -> None:
    engine = create_engine(url, connections=connections)
    try:
        await _prepare(engine, migrate)
    finally:
        await engine.dispose()


async def _prepare(engine: AsyncEngine, migrate: bool) -> None:
    try:
        await prepare_schema(engine, migrate=migrate)
    except OPEN_ERRORS as exc:
        shown = describe_url(engine.url)
        raise open_failure(shown, exc) from None


async def prepare_schema(engine: AsyncEngine, *, migrate: bool = True) -> None:
    """Migrate the schema to the newest revision, or (migrate=False) insist it is there.

    Raises `StoreError` naming the database and what to do.
    """
    if migrate:
        await migrations.upgrade(engine)
        return
    found, wanted = await migrations.current(engine), migrations.head()
    if found != wanted:
        url = describe_url(engine.url)
        raise StoreError(
            f"database {url} is at revision {found or 'none'}, the code needs {wanted};"
            " run `watcher db upgrade`"
        )


def upsert_insert(dialect: str) -> Callable[[Table], PostgresInsert | SqliteInsert]:
    """The dialect's `insert` construct, the one with `on_conflict_do_*`.

    PostgreSQL's dialect module is imported only when the database is PostgreSQL: an
    SQLite deployment never loads it (about 40 ms of start-up).
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
