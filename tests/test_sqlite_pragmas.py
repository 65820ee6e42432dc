"""The SQLite file's connections: how often the WAL log is copied back, the page caches.

A cold round's polls each dirty hundreds of scattered story-key pages; checkpointing
every 1,000 pages (SQLite's default) copied them back nearly every commit, and a 2 MB
page cache re-read them from the file. Only the one writer connection gets the larger
cache: the readers and the async pool keep SQLite's default.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import Connection

from watcher.store.db import (
    SQLITE_WAL_CHECKPOINT_PAGES,
    SQLITE_WAL_KEEP_BYTES,
    SQLITE_WRITER_CACHE_KIB,
    open_database,
)


def _pragmas(connection: Connection) -> tuple[int, int, int]:
    def read(name: str) -> int:
        return int(connection.exec_driver_sql(f"PRAGMA {name}").scalar_one())

    return read("wal_autocheckpoint"), read("journal_size_limit"), read("cache_size")


def _default_cache() -> int:
    with sqlite3.connect(":memory:") as plain:
        return int(plain.execute("PRAGMA cache_size").fetchone()[0])


async def test_the_writer_checkpoints_rarely_and_caches_more_than_the_readers(
    tmp_path: Path,
) -> None:
    async with open_database(f"sqlite:///{tmp_path / 'w.db'}") as db:
        writer = await db.run_write(_pragmas)
        reader = await db.run_read(_pragmas)
    assert writer == (
        SQLITE_WAL_CHECKPOINT_PAGES,
        SQLITE_WAL_KEEP_BYTES,
        -SQLITE_WRITER_CACHE_KIB,
    )
    assert reader == (SQLITE_WAL_CHECKPOINT_PAGES, SQLITE_WAL_KEEP_BYTES, _default_cache())
    assert -SQLITE_WRITER_CACHE_KIB < _default_cache() < 0  # larger than the default


async def test_commits_below_the_checkpoint_size_leave_their_pages_in_the_log(
    tmp_path: Path,
) -> None:
    """Five commits of 500 pages each stay in the WAL log (2,500 pages): with SQLite's
    default (1,000 pages) the third commit copied them back and the log started over."""
    path = tmp_path / "w.db"

    def fill(connection: Connection) -> None:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (body BLOB)")
        for _ in range(500):
            connection.exec_driver_sql("INSERT INTO filler VALUES (zeroblob(4000))")

    async with open_database(f"sqlite:///{path}") as db:
        for _ in range(5):
            await db.run_write(fill)
        log_pages = await asyncio.to_thread(lambda: Path(f"{path}-wal").stat().st_size // 4096)
    assert 2_500 <= log_pages < SQLITE_WAL_CHECKPOINT_PAGES
