"""The async engine: SQLite by default (WAL, busy timeout), PostgreSQL via URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.errors import StoreError
from watcher.store import migrate as migrations
from watcher.store import tables  # noqa: F401  (registers the tables on the metadata)

SQLITE_BUSY_TIMEOUT_MS = 30_000
Sessions = async_sessionmaker[AsyncSession]


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`; an SQLite file's folder is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sessions(engine: AsyncEngine) -> Sessions:
    """A session factory whose objects stay readable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def prepare_schema(engine: AsyncEngine, *, migrate: bool = True) -> None:
    """Migrate the schema to the newest revision, or (migrate=False) insist it is there.

    Raises `StoreError` naming the database and what to do.
    """
    if migrate:
        await migrations.upgrade(engine)
        return
    found, wanted = await migrations.current(engine), migrations.head()
    if found != wanted:
        url = engine.url.render_as_string(hide_password=True)
        raise StoreError(
            f"database {url} is at revision {found or 'none'}, the code needs {wanted};"
            " run `watcher db upgrade`"
        )
